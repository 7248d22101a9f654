"""The SQL of the audit trail: a table in its own schema ``binhphuoc_audit``
owned by the NOLOGIN role ``binhphuoc_audit_owner``, written only by a
SECURITY DEFINER trigger function of that role, fired AFTER each INSERT,
UPDATE and DELETE of the audited tables. The application's role gets USAGE on
the schema and SELECT on the table, nothing else: it cannot UPDATE, DELETE,
TRUNCATE or DROP what is recorded.

Who and from where come from two settings of the transaction
(``binhphuoc.actor``, ``binhphuoc.ip``, ``binhphuoc.request``) that the web
app sets (audit/session.py); a change made without them (psql, a migration)
is recorded with ``db:<login role>`` as its actor.

The script is idempotent and needs a superuser (creating a role, a schema
owned by another role, triggers with a function of that role): ``ckan
binhphuoc audit attach`` prints it for ``psql`` or runs it itself. Tables that
do not exist (yet) are skipped: run it again after migrations."""
from __future__ import annotations

import re

from ckanext.binhphuoc.backup import AUDIT_SCHEMA as SCHEMA
from ckanext.binhphuoc.backup import AUDIT_TRIGGER as TRIGGER

OWNER = "binhphuoc_audit_owner"
TABLE = SCHEMA + ".log"

#: audited table → the columns naming its row (the log's ``row_key``)
AUDITED: dict[str, tuple[str, ...]] = {
    "package": ("id",),
    "package_extra": ("id",),
    "resource": ("id",),
    "resource_view": ("id",),
    "member": ("id",),
    "package_member": ("package_id", "user_id"),
    "user": ("id",),
    "group": ("id",),
    "group_extra": ("id",),
    "api_token": ("id",),
    "system_info": ("key",),
    "harvest_source": ("id",),
    "binhphuoc_workflow_state": ("package_id",),
    "binhphuoc_certification": ("package_id",),
    "binhphuoc_certification_condition": ("package_id", "condition"),
    "binhphuoc_certification_member": ("id",),
    "binhphuoc_certification_evaluation": ("package_id", "year"),
    "binhphuoc_access_request": ("id",),
    "binhphuoc_sso_identity": ("issuer", "sub"),
}

#: columns whose values never reach the log (shown as "[redacted]" when set)
SECRETS = ("password", "apikey", "reset_key", "plugin_extras", "secret", "token",
           "access_token", "refresh_token", "client_secret")

#: columns that only say when a row was last used (every request moves them):
#: an UPDATE changing nothing else is not recorded
USE_STAMPS = ("last_access", "last_active")

OPS = ("INSERT", "UPDATE", "DELETE")

_ROLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

_SCHEMA_SQL = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{owner}') THEN
        CREATE ROLE {owner} NOLOGIN;
    END IF;
END
$$;
CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {owner};
ALTER SCHEMA {schema} OWNER TO {owner};
REVOKE ALL ON SCHEMA {schema} FROM PUBLIC;
CREATE TABLE IF NOT EXISTS {table} (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor text NOT NULL,
    ip text,
    request text,
    table_name text NOT NULL,
    op text NOT NULL,
    row_key text,
    package_id text,
    before jsonb,
    after jsonb,
    txid bigint NOT NULL DEFAULT txid_current()
);
ALTER TABLE {table} OWNER TO {owner};
CREATE INDEX IF NOT EXISTS log_at_idx ON {table} (at);
CREATE INDEX IF NOT EXISTS log_row_idx ON {table} (table_name, row_key);
CREATE INDEX IF NOT EXISTS log_package_idx ON {table} (package_id);
CREATE INDEX IF NOT EXISTS log_actor_idx ON {table} (actor);
REVOKE ALL ON {table} FROM PUBLIC;
"""

_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION {schema}.redact(j jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $f$
    SELECT jsonb_object_agg(key, CASE WHEN key = ANY (ARRAY[{secrets}]) AND value <> 'null'
                                      THEN '"[redacted]"'::jsonb ELSE value END)
    FROM jsonb_each(j)
$f$;
CREATE OR REPLACE FUNCTION {schema}.record() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $f$
DECLARE
    old_j jsonb;
    new_j jsonb;
    row_j jsonb;
    key text;
BEGIN
    IF TG_OP <> 'INSERT' THEN old_j := to_jsonb(OLD); END IF;
    IF TG_OP <> 'DELETE' THEN new_j := to_jsonb(NEW); END IF;
    row_j := coalesce(new_j, old_j);
    IF TG_OP = 'UPDATE' THEN
        -- only the keys that changed, before and after
        SELECT jsonb_object_agg(o.key, o.value), jsonb_object_agg(o.key, n.value)
          INTO old_j, new_j
          FROM jsonb_each(old_j) o JOIN jsonb_each(new_j) n ON n.key = o.key
         WHERE o.value IS DISTINCT FROM n.value;
        IF old_j IS NOT NULL AND (old_j - ARRAY[{stamps}]) = '{{}}'::jsonb THEN
            RETURN NULL;
        END IF;
        IF old_j IS NULL THEN
            RETURN NULL;
        END IF;
    END IF;
    SELECT string_agg(coalesce(row_j ->> c, ''), '/') INTO key FROM unnest(TG_ARGV) c;
    INSERT INTO {table} (actor, ip, request, table_name, op, row_key, package_id, before, after)
    VALUES (coalesce(nullif(current_setting('binhphuoc.actor', true), ''),
                     'db:' || session_user),
            nullif(current_setting('binhphuoc.ip', true), ''),
            nullif(current_setting('binhphuoc.request', true), ''),
            TG_TABLE_NAME, TG_OP, key,
            CASE WHEN TG_TABLE_NAME = 'package' THEN row_j ->> 'id'
                 ELSE row_j ->> 'package_id' END,
            {schema}.redact(old_j), {schema}.redact(new_j));
    RETURN NULL;
END
$f$;
ALTER FUNCTION {schema}.redact(jsonb) OWNER TO {owner};
ALTER FUNCTION {schema}.record() OWNER TO {owner};
REVOKE ALL ON FUNCTION {schema}.record() FROM PUBLIC;
"""

_TRIGGER_SQL = """
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES {values}) AS v(name, args) LOOP
        IF to_regclass(format('public.%I', t.name)) IS NOT NULL THEN
            EXECUTE format('CREATE OR REPLACE TRIGGER {trigger} AFTER INSERT OR UPDATE OR DELETE '
                           'ON public.%I FOR EACH ROW EXECUTE FUNCTION {schema}.record(%s)',
                           t.name, t.args);
        END IF;
    END LOOP;
END
$$;
"""

_GRANT_SQL = """
GRANT USAGE ON SCHEMA {schema} TO {app};
GRANT SELECT ON {table} TO {app};
"""


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def attach_sql(app_role: str) -> str:
    """The whole idempotent script for a database whose application role
    (the login of ``sqlalchemy.url``) is ``app_role``."""
    if not _ROLE.match(app_role) or app_role == OWNER:
        raise ValueError("not a role name: %r" % app_role)
    names = {"schema": SCHEMA, "owner": OWNER, "table": TABLE, "trigger": TRIGGER,
             "app": '"%s"' % app_role, "secrets": ", ".join(_quote(s) for s in SECRETS),
             "stamps": ", ".join(_quote(s) for s in USE_STAMPS)}
    values = ", ".join("(%s, %s)" % (_quote(t), _quote(", ".join(_quote(c) for c in cols)))
                       for t, cols in AUDITED.items())
    return "/* binhphuoc audit trail (ckan binhphuoc audit attach) */\n" + "".join(
        part.format(values=values, **names)
        for part in (_SCHEMA_SQL, _FUNCTION_SQL, _TRIGGER_SQL, _GRANT_SQL))


def attached_tables_sql() -> str:
    """The audited tables that have the trigger (one ``tgrelid::regclass`` a row)."""
    return ("SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = '%s' AND NOT t.tgisinternal ORDER BY 1" % TRIGGER)
