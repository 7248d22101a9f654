"""Load the demo content of config/demo/demo.yaml into the running portal.

Run by `make run` (bin/run) with the virtualenv's Python, after the web app
and the background worker are up:

    .venv/bin/python bin/demo.py --url http://127.0.0.1:5000 \
        --token-file var/secrets/api_token --password-file var/secrets/demo_password

Everything goes through CKAN's Action API (ckanapi.RemoteCKAN) with the API
token of the sysadmin `admin`, exactly as an agency's script would.

Every key of an agency, topic or dataset in demo.yaml is a field of the
portal's schemas (schemas/*.yaml) and is sent as is, except the structural
keys: a dataset's `resources` (uploaded files), `tags` and `groups` (sent as
CKAN's lists of {"name": ...}).

Idempotent and upgrading: what is missing (by name) is created; an agency,
topic or dataset that exists but shows a value different from demo.yaml (for
instance content loaded by an older demo, before the schema fields existed)
is patched (organization_patch / group_patch / package_patch), and the core
fields the schema no longer uses (maintainer, maintainer_email, version) are
emptied. Each change is logged as "created …" or "updated …: <fields>"; a
second run prints neither. Resources are only added (by name), never
replaced. A validation error of CKAN is reported with the object's name and
the messages of each field, and the script exits with status 1.

Tabular resources are loaded into the DataStore by ckanext-xloader, whose
jobs the background worker runs; the script waits for them and resubmits a
load that failed or never started (exit status 2 if some are not loaded).
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from typing import Any

import yaml
from ckanapi import CKANAPIError, NotAuthorized, NotFound, RemoteCKAN, ValidationError

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO_DIR = os.path.join(os.path.dirname(HERE), "config", "demo")
TABULAR = {"csv", "tsv", "xls", "xlsx"}

# Keys of a dataset spec that are not plain schema fields.
STRUCTURAL = ("resources", "tags", "groups", "workflow", "workflow_reason")
# Core package columns that the Vietnamese schema replaced (focal_point_*):
# emptied on datasets created by an older demo.
OBSOLETE_CORE = ("maintainer", "maintainer_email", "version")


class DemoError(Exception):
    """The demo content could not be loaded; the message says which object."""


def log(msg: str) -> None:
    print(f"    {msg}", flush=True)


# --- comparing demo.yaml with what the API shows -----------------------------

def norm(value: Any) -> Any:
    """Comparable form of a value from demo.yaml or from the API."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, str):
        return value.replace("\r\n", "\n").strip()
    if isinstance(value, (list, tuple)):
        return [norm(v) for v in value]
    if value is None:
        return ""
    return value


def to_api(value: Any) -> Any:
    """A demo.yaml value as sent to the API (dates as YYYY-MM-DD, text stripped)."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (list, tuple)):
        return [to_api(v) for v in value]
    return value


def empty(value: Any) -> bool:
    return norm(value) in ("", [], {})


def differs(want: Any, have: Any) -> bool:
    if empty(want) and empty(have):
        return False
    return norm(want) != norm(have)


def names(items: list[dict] | None) -> list[str]:
    return sorted(i.get("name") for i in items or [])


def format_errors(error_dict: dict) -> str:
    lines = []
    for field, messages in sorted(error_dict.items()):
        if field == "__type":
            continue
        if isinstance(messages, dict):
            messages = [f"{k}: {v}" for k, v in messages.items()]
        elif not isinstance(messages, list):
            messages = [messages]
        text = "; ".join(str(m) for m in messages if m) or "(invalid)"
        lines.append(f"  {field}: {text}")
    return "\n".join(lines) or f"  {error_dict}"


def call(ckan: RemoteCKAN, action: str, what: str, **data: Any) -> Any:
    """Call an action; a ValidationError becomes a DemoError naming ``what``."""
    try:
        return getattr(ckan.action, action)(**data)
    except ValidationError as e:
        raise DemoError(f"{what} ({action}) rejected by CKAN:\n"
                        f"{format_errors(e.error_dict)}") from None
    except NotAuthorized as e:
        raise DemoError(f"{what} ({action}): not authorized ({e}); is the API "
                        "token in var/secrets/api_token the sysadmin's?") from None


# --- agencies and topics --------------------------------------------------------

def fields_of(spec: dict, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: to_api(v) for k, v in spec.items() if k not in skip}


def org_or_group_diff(spec: dict, have: dict) -> dict[str, Any]:
    return {k: to_api(v) for k, v in spec.items()
            if k != "name" and differs(v, have.get(k))}


def ensure_org_or_group(ckan: RemoteCKAN, kind: str, spec: dict) -> None:
    what = f"{kind} {spec['name']}"

    def show() -> dict:
        return getattr(ckan.action, f"{kind}_show")(
            id=spec["name"], include_datasets=False, include_users=False)

    try:
        have = show()
    except NotFound:
        call(ckan, f"{kind}_create", what, **fields_of(spec))
        log(f"created {kind} {spec['name']} ({spec['title']})")
        return
    diff = org_or_group_diff(spec, have)
    if not diff:
        return
    call(ckan, f"{kind}_patch", what, id=have["id"], **diff)
    # The patch action's answer lacks the scheming fields: compare a fresh show.
    left = org_or_group_diff(spec, show())
    if left:
        raise DemoError(f"{what}: CKAN did not keep {', '.join(sorted(left))} "
                        "(not a field of the schema?)")
    log(f"updated {kind} {spec['name']}: {', '.join(sorted(diff))}")


def ensure_user(ckan: RemoteCKAN, spec: dict, password: str) -> None:
    what = f"user {spec['name']}"
    try:
        ckan.action.user_show(id=spec["name"])
    except NotFound:
        call(ckan, "user_create", what, name=spec["name"], fullname=spec["fullname"],
             email=spec["email"], password=password)
        log(f"created user {spec['name']} ({spec['fullname']})")
    if spec.get("organization"):
        # Upsert: sets the role whether or not the user is already a member.
        call(ckan, "organization_member_create", what,
             id=spec["organization"], username=spec["name"],
             role=spec.get("capacity", "editor"))


# --- datasets -------------------------------------------------------------------

def dataset_fields(spec: dict) -> dict[str, Any]:
    """What package_create gets: every field, structural keys as CKAN lists."""
    # no `private`: a new dataset is a draft; the workflow makes it public
    data = fields_of(spec, skip=STRUCTURAL)
    data["tags"] = [{"name": t} for t in spec.get("tags", [])]
    data["groups"] = [{"name": g} for g in spec.get("groups", [])]
    return data


def dataset_diff(spec: dict, pkg: dict) -> dict[str, Any]:
    """The fields to patch so that ``pkg`` (package_show) matches ``spec``."""
    diff: dict[str, Any] = {}
    want = fields_of(spec, skip=STRUCTURAL)
    for key, value in want.items():
        if key == "name":
            continue
        if key == "owner_org":
            have = (pkg.get("organization") or {}).get("name")
            if value not in (have, pkg.get("owner_org")):
                diff[key] = value
        elif differs(value, pkg.get(key)):
            diff[key] = value
    if sorted(spec.get("tags", [])) != names(pkg.get("tags")):
        diff["tags"] = [{"name": t} for t in spec.get("tags", [])]
    if sorted(spec.get("groups", [])) != names(pkg.get("groups")):
        diff["groups"] = [{"name": g} for g in spec.get("groups", [])]
    for key in OBSOLETE_CORE:
        if key not in spec and not empty(pkg.get(key)):
            diff[key] = ""
    return diff


def ensure_dataset(ckan: RemoteCKAN, spec: dict) -> dict:
    what = f"dataset {spec['name']}"
    try:
        pkg = ckan.action.package_show(id=spec["name"])
    except NotFound:
        pkg = call(ckan, "package_create", what, **dataset_fields(spec))
        log(f"created dataset {spec['name']}")
    else:
        diff = dataset_diff(spec, pkg)
        if diff:
            call(ckan, "package_patch", what, id=pkg["id"], **diff)
            pkg = ckan.action.package_show(id=spec["name"])
            left = dataset_diff(spec, pkg)
            if left:
                raise DemoError(f"{what}: CKAN did not keep "
                                f"{', '.join(sorted(left))} (not a field of the schema?)")
            log(f"updated dataset {spec['name']}: {', '.join(sorted(diff))}")
    have = {r["name"] for r in pkg.get("resources", [])}
    for res in spec.get("resources", []):
        if res["name"] in have:
            continue
        path = os.path.join(DEMO_DIR, res["file"])
        with open(path, "rb") as f:
            call(ckan, "resource_create", f"{what}, resource {res['file']}",
                 package_id=pkg["id"],
                 name=res["name"],
                 description=res.get("description", ""),
                 format=res["format"],
                 upload=(res["file"], f))
        log(f"  uploaded {res['file']}")
    return ckan.action.package_show(id=spec["name"])


# Transitions (as the sysadmin running the demo) that bring a new draft to the
# state its spec names.
WORKFLOW_PATHS = {
    "draft": [],
    "submitted": ["submit"],
    "approved": ["submit", "approve"],
    "published": ["submit", "approve", "publish"],
    "rejected": ["submit", "approve", "reject"],
    "withdrawn": ["submit", "approve", "publish", "withdraw"],
}


def ensure_workflow_state(ckan: RemoteCKAN, spec: dict, pkg: dict) -> None:
    """A dataset still in draft is taken through the approval workflow to its
    spec's state; a dataset already past draft is left where its reviewers put
    it (idempotent)."""
    target = spec.get("workflow", "published")
    if target not in WORKFLOW_PATHS:
        raise DemoError(f"dataset {spec['name']}: unknown workflow state {target!r}")
    state = pkg.get("workflow_state")
    if state is None or state != "draft" or target == "draft":
        return
    for step in WORKFLOW_PATHS[target]:
        data = {"id": pkg["id"]}
        if step in ("reject", "withdraw"):
            data["reason"] = spec.get("workflow_reason") or "Minh họa quy trình"
        call(ckan, f"binhphuoc_workflow_{step}", f"dataset {spec['name']}", **data)
    log(f"  workflow: {spec['name']} → {target}")


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
            names_ = ", ".join(r["name"] for r in pending.values())
            log(f"not loaded after {timeout:.0f}s: {names_}; see var/log/worker.log")
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
            ensure_workflow_state(ckan, spec, pkg)
            tabular += [r for r in pkg["resources"]
                        if (r.get("format") or "").lower() in TABULAR]
        ok = wait_for_datastore(ckan, tabular, args.timeout)
    except DemoError as e:
        print(f"demo content: {e}", file=sys.stderr)
        return 1
    except (CKANAPIError, OSError) as e:
        # CKANAPIError: an unexpected answer of the portal; OSError: connection.
        print(f"demo content: the portal at {args.url} failed: "
              f"{type(e).__name__}: {e}", file=sys.stderr)
        return 1
    n = len(demo.get("datasets", []))
    log(f"demo content: {n} datasets, {len(tabular)} CSV resources "
        f"{'in the DataStore' if ok else '(some NOT yet in the DataStore)'}")
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
