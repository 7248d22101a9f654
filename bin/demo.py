"""Load the demo content of config/demo/demo.yaml into the running portal.

Run by `make run` (bin/run) with the virtualenv's Python, after the web app
and the background worker are up:

    .venv/bin/python bin/demo.py --url http://127.0.0.1:5000 \
        --token-file var/secrets/api_token --password-file var/secrets/demo_password

Everything goes through CKAN's Action API (ckanapi.RemoteCKAN) with the API
token of the sysadmin `admin`, exactly as an agency's script would.  It is
idempotent: organizations, groups, users, datasets and resources that already
exist (by name) are left alone.  Tabular resources are loaded into the
DataStore by ckanext-xloader, whose jobs the background worker runs; the
script waits for them and resubmits a load that failed or never started.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import yaml
from ckanapi import NotFound, RemoteCKAN, ValidationError

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO_DIR = os.path.join(os.path.dirname(HERE), "config", "demo")
TABULAR = {"csv", "tsv", "xls", "xlsx"}


def log(msg: str) -> None:
    print(f"    {msg}", flush=True)


def ensure_org_or_group(ckan: RemoteCKAN, kind: str, spec: dict) -> None:
    show = getattr(ckan.action, f"{kind}_show")
    create = getattr(ckan.action, f"{kind}_create")
    try:
        show(id=spec["name"], include_datasets=False, include_users=False)
    except NotFound:
        create(name=spec["name"], title=spec["title"],
               description=spec.get("description", ""))
        log(f"created {kind} {spec['name']} ({spec['title']})")


def ensure_user(ckan: RemoteCKAN, spec: dict, password: str) -> None:
    try:
        ckan.action.user_show(id=spec["name"])
    except NotFound:
        ckan.action.user_create(name=spec["name"], fullname=spec["fullname"],
                                email=spec["email"], password=password)
        log(f"created user {spec['name']} ({spec['fullname']})")
    if spec.get("organization"):
        # Upsert: sets the role whether or not the user is already a member.
        ckan.action.organization_member_create(
            id=spec["organization"], username=spec["name"],
            role=spec.get("capacity", "editor"))


def ensure_dataset(ckan: RemoteCKAN, spec: dict) -> dict:
    try:
        pkg = ckan.action.package_show(id=spec["name"])
    except NotFound:
        pkg = ckan.action.package_create(
            name=spec["name"],
            title=spec["title"],
            notes=spec.get("notes", "").strip(),
            owner_org=spec["owner_org"],
            private=False,
            license_id=spec.get("license_id", "cc-by"),
            maintainer=spec.get("maintainer", ""),
            maintainer_email=spec.get("maintainer_email", ""),
            version=str(spec.get("version", "")),
            tags=[{"name": t} for t in spec.get("tags", [])],
            groups=[{"name": g} for g in spec.get("groups", [])],
        )
        log(f"created dataset {spec['name']}")
    have = {r["name"] for r in pkg.get("resources", [])}
    for res in spec.get("resources", []):
        if res["name"] in have:
            continue
        path = os.path.join(DEMO_DIR, res["file"])
        with open(path, "rb") as f:
            ckan.action.resource_create(
                package_id=pkg["id"],
                name=res["name"],
                description=res.get("description", ""),
                format=res["format"],
                upload=(res["file"], f),
            )
        log(f"  uploaded {res['file']}")
    return ckan.action.package_show(id=spec["name"])


def wait_for_datastore(ckan: RemoteCKAN, resources: list[dict], timeout: float) -> bool:
    """Wait until every tabular resource is datastore_active (xloader via the worker)."""
    pending = {r["id"]: r for r in resources}
    submitted: set[str] = set()
    deadline = time.monotonic() + timeout
    announced = False
    while pending:
        for rid in list(pending):
            res = ckan.action.resource_show(id=rid)
            if res.get("datastore_active"):
                del pending[rid]
                continue
            try:
                status = ckan.action.xloader_status(resource_id=rid).get("status")
            except NotFound:
                status = None
            if status in (None, "error") and rid not in submitted:
                # Never queued (e.g. the worker was down) or failed: (re)submit once.
                ckan.action.xloader_submit(resource_id=rid, ignore_hash=True)
                submitted.add(rid)
            elif status == "error" and rid in submitted:
                log(f"xloader failed for {res['name']} ({rid}); see var/log/worker.log")
                del pending[rid]
                return False
        if not pending:
            break
        if not announced:
            log(f"waiting for the background worker to load {len(pending)} "
                "CSV file(s) into the DataStore (xloader)")
            announced = True
        if time.monotonic() > deadline:
            names = ", ".join(r["name"] for r in pending.values())
            log(f"not loaded after {timeout:.0f}s: {names}; see var/log/worker.log")
            return False
        time.sleep(2)
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--password-file", required=True,
                    help="password of the demo users (generated once if missing)")
    ap.add_argument("--timeout", type=float, default=240)
    args = ap.parse_args()

    with open(os.path.join(DEMO_DIR, "demo.yaml"), encoding="utf-8") as f:
        demo = yaml.safe_load(f)
    with open(args.token_file, encoding="utf-8") as f:
        token = f.read().strip()
    if not os.path.exists(args.password_file):
        import secrets
        fd = os.open(args.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(12) + "\n")
    with open(args.password_file, encoding="utf-8") as f:
        password = f.read().strip()

    ckan = RemoteCKAN(args.url, apikey=token, user_agent="binhphuoc-demo/1.0")
    try:
        for spec in demo.get("organizations", []):
            ensure_org_or_group(ckan, "organization", spec)
        for spec in demo.get("groups", []):
            ensure_org_or_group(ckan, "group", spec)
        for spec in demo.get("users", []):
            ensure_user(ckan, spec, password)
        tabular = []
        for spec in demo.get("datasets", []):
            pkg = ensure_dataset(ckan, spec)
            tabular += [r for r in pkg["resources"]
                        if (r.get("format") or "").lower() in TABULAR]
    except ValidationError as e:
        print(f"demo content rejected by CKAN: {e}", file=sys.stderr)
        return 1
    ok = wait_for_datastore(ckan, tabular, args.timeout)
    n = len(demo.get("datasets", []))
    log(f"demo content: {n} datasets, {len(tabular)} CSV resources "
        f"{'in the DataStore' if ok else '(some NOT yet in the DataStore)'}")
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
