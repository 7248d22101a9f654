"""`ckan binhphuoc audit attach|verify-files` (issue 21 item 4)."""
from __future__ import annotations

import os

import click

from ckanext.binhphuoc.cli import binhphuoc

from . import sql


@binhphuoc.group(name="audit", short_help="the append-only audit trail and file checksums")
def audit() -> None:
    pass


def app_role() -> str:
    """The login role of ``sqlalchemy.url`` (the web app's)."""
    import sqlalchemy as sa
    from ckan.plugins import toolkit as tk

    return sa.engine.make_url(tk.config.get("sqlalchemy.url")).username or "ckan"


def run_script(url: str, script: str) -> None:
    """Run ``script`` as it is (``%`` and ``$$`` included) in one transaction."""
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(script)
    finally:
        conn.close()


@audit.command(short_help="create the audit schema, its roles and the triggers (superuser)")
@click.option("--superuser-url", default=lambda: os.environ.get("BINHPHUOC_AUDIT_SUPERUSER_URL"),
              help="a superuser's URL of CKAN's database: run the SQL there "
                   "(default $BINHPHUOC_AUDIT_SUPERUSER_URL; none: print it)")
@click.option("--app-role", "role", default=None,
              help="the web app's role (default: sqlalchemy.url's)")
def attach(superuser_url: str | None, role: str | None) -> None:
    """Create (or bring up to date) the audit trail of CKAN's database:
    the NOLOGIN owner role, the schema ``binhphuoc_audit`` and its table, the
    trigger function and the triggers on every audited table that exists.
    Idempotent: run it again after every migration. Without a superuser URL
    the SQL is printed, e.g. for ``| psql -U postgres -d ckan``."""
    script = sql.attach_sql(role or app_role())
    if not superuser_url:
        click.echo(script)
        return
    run_script(superuser_url, script)
    click.echo("audit trail attached", err=True)


@audit.command(name="verify-files", short_help="re-verify the SHA-256 of every stored file")
@click.option("--backups", type=click.Path(file_okay=False, path_type=str), default=None,
              help="backup directory to check (default ckanext.binhphuoc.backup.dir)")
@click.option("--no-mail", is_flag=True, help="do not mail the operator")
def verify_files(backups: str | None, no_mail: bool) -> None:
    """Compute the SHA-256 of every uploaded file and of every member of the
    backup archives (database and DataStore dumps, files) and compare it with
    the one recorded when it was stored. Exit status 1 on any mismatch or
    missing file; the operator (ckanext.binhphuoc.audit.operator_email, else
    email_to) is mailed the report."""
    from pathlib import Path

    from ckan.plugins import toolkit as tk

    from . import verify

    report = verify.run(Path(backups) if backups else None)
    for line in report.lines():
        click.echo(line)
    if report.problems and not no_mail:
        sent = verify.notify(report, tk.config.get("ckan.site_title") or "CKAN")
        click.echo("mailed to: %s" % (", ".join(sent) or "nobody (no operator address)"),
                   err=True)
    if report.problems:
        raise click.exceptions.Exit(1)
