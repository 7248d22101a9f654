"""Load test of the portal (issue 21, item 1): anonymous visitors, publishers
and a harvest at the same time, against `make run`'s stack with gunicorn.

    make services                      # the private PostgreSQL and Redis
    .venv/bin/python bench/load.py     # 50 anonymous users + 5 publishers, 300 s
    .venv/bin/python bench/load.py --users 10 --duration 60 --web-workers 3

What it does:

1. Builds its own stack under var/load/ (never the portal `make run` started):
   config/ckan.ini.template rendered as bin/setup-ckan does, with its own
   databases (--database, --datastore-database: created as `postgres` when
   missing, migrated as bin/setup-ckan does), Redis db 3 of $REDIS_PORT, its own
   storage, a sysadmin `load_admin` with an API token; then starts on loopback
   `bin/web` (gunicorn, WEB_WORKERS=--web-workers) on --port and the
   background worker (`ckan jobs worker`, xloader), each by PID.
2. Seeds through the Action API: bin/demo.py (agencies, datasets with uploaded
   files, taken through the workflow to published, CSVs loaded into the
   DataStore by xloader), --extra copies of the demo's tabular datasets, and
   --publishers accounts (editors of a demo agency, an API token each), each
   with a draft dataset of its own.
3. Syncs the harvest sources (harvesters/*.yaml) and, during the run, harvests
   one of them (--harvest-source) again and again in one process
   (`ckan harvester run-test`): one harvest always running.
4. Runs locust (installed from config/requirements-bench.txt in its own
   virtualenv var/bench-venv, so that gevent never touches CKAN's pins) with
   bench/load_users.py: --users anonymous visitors (searches free text and with
   facets, dataset and resource pages, downloads, datastore_search, home page;
   think time --think seconds) and --publishers publishers (package_patch,
   resource_create, package_show with their tokens), for --duration seconds
   (hard stop: the locust process is killed 120 s later).
5. Prints per request type: count, req/s, p50/p95/p99 (ms), errors (with the
   first error texts), the harvest runs, and the RSS of the web role (gunicorn
   master + workers, summed) at the start, middle and end. Stops what it
   started, by PID. Exit status 1 if any request or harvest failed.

--url attaches to a running portal on loopback instead (with --token-file of a
sysadmin's API token; it seeds that portal too: the demo, the copies, the
publishers; no harvest; memory only with --web-pid). Figures:
docs/benchmarks.md, "Load test".
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import procs  # noqa: E402  (stop: bench/procs.py)
import search  # noqa: E402  (write_ini, ensure_database: bench/search.py)

VAR = ROOT / "var" / "load"
BENCH_VENV = ROOT / "var" / "bench-venv"
# The CLI script run by this interpreter (.venv's): a copied venv's scripts may name
# another venv's Python in their first line.
CKAN = [sys.executable, str(ROOT / ".venv" / "bin" / "ckan")]
PG = ("127.0.0.1", "25432")
MIGRATE = ["activity", "harvest", "binhphuoc_pgsearch", "binhphuoc_schema", "binhphuoc_workflow",
           "binhphuoc_feedback", "binhphuoc_sso", "binhphuoc_certification"]


def log(msg: str) -> None:
    print(f"[load {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without CKAN_* (which would override the ini)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CKAN_")}
    env.update(extra)
    return env


def psql_su(db: str, sql: str, stdin: str | None = None) -> str:
    cmd = ["psql", "-h", PG[0], "-p", PG[1], "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1",
           "-qtA"] + (["-c", sql] if sql else [])
    out = subprocess.run(cmd, input=stdin, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def ckan_cli(ini: Path, *args: str) -> str:
    out = subprocess.run([*CKAN, "-c", str(ini), *args], env=clean_env(), capture_output=True,
                         text=True)
    if out.returncode:
        sys.exit(f"ckan {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return out.stdout


# --- the stack ---------------------------------------------------------------------

def render_template(port: int, redis_port: str) -> Path:
    """config/ckan.ini.template with its placeholders, as bin/setup-ckan does."""
    secret_file = VAR / "secrets" / "secret_key"
    if not secret_file.exists():
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        secret_file.write_text(secrets.token_urlsafe(32))
    values = {"CKAN_PORT": str(port), "PG_PORT": PG[1], "REDIS_PORT": redis_port,
              "SMTP_PORT": os.environ.get("SMTP_PORT", "1025"),
              "OIDC_PORT": os.environ.get("OIDC_PORT", "5556"), "VAR": str(VAR),
              "SECRET_KEY": secret_file.read_text().strip(), "XLOADER_API_TOKEN": "NOT_SET"}
    text = (ROOT / "config" / "ckan.ini.template").read_text(encoding="utf-8")
    text = re.sub(r"@([A-Z][A-Z_]*)@", lambda m: values[m.group(1)], text)
    base = VAR / "base.ini"
    base.write_text(text, encoding="utf-8")
    return base


def write_ini(args: argparse.Namespace, base: Path, token: str) -> Path:
    db, ds = args.database, args.datastore_database
    pg = f"127.0.0.1:{PG[1]}"
    settings = {
        "sqlalchemy.url": f"postgresql://ckan@{pg}/{db}",
        "ckan.datastore.write_url": f"postgresql://ckan@{pg}/{ds}",
        "ckan.datastore.read_url": f"postgresql://datastore_ro@{pg}/{ds}",
        "ckanext.xloader.jobs_db.uri": f"postgresql://ckan@{pg}/{db}",
        "ckanext.xloader.api_token": token or "NOT_SET",
        "solr_url": f"pgsearch://{db}",
        "ckan.site_id": "binhphuoc-load",
        "ckan.redis.url": f"redis://127.0.0.1:{args.redis_port}/3",
        "ckanext.binhphuoc.harvest.sources_dir": str(ROOT / "harvesters"),
    }
    return Path(search.write_ini(str(VAR / "load.ini"), str(base), settings, "bench/load.py"))


def prepare_databases(args: argparse.Namespace, ini: Path) -> None:
    for db in (args.database, args.datastore_database):
        if not psql_su("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{db}'"):
            log(f"creating database {db}")
            psql_su("postgres", f'CREATE DATABASE "{db}" OWNER ckan ENCODING \'UTF8\' '
                                "TEMPLATE template0")
    for ext in ("unaccent", "pg_trgm"):
        psql_su(args.database, f"CREATE EXTENSION IF NOT EXISTS {ext}")
    if psql_su(args.database, "SELECT to_regclass('public.package') IS NULL") == "t":
        log("ckan db init and the plugins' migrations (as bin/setup-ckan)")
        ckan_cli(ini, "db", "init")
        for plugin in MIGRATE:
            ckan_cli(ini, "db", "upgrade", "-p", plugin)
    probe = "SELECT to_regclass('public._table_metadata') IS NULL"
    if psql_su(args.datastore_database, probe) == "t":
        sql = ckan_cli(ini, "datastore", "set-permissions")
        sql = sql[sql.index("/*"):] if "/*" in sql else sql
        subprocess.run(["psql", "-h", PG[0], "-p", PG[1], "-U", "postgres", "-d", "postgres",
                        "-qX"], input=sql, check=True, capture_output=True, text=True)


def admin_token(ini: Path) -> str:
    """The sysadmin load_admin (created once) and a new API token of it."""
    users = ckan_cli(ini, "user", "list")
    if "load_admin" not in users:
        ckan_cli(ini, "user", "add", "load_admin", "email=load_admin@example.com",
                 f"password={secrets.token_urlsafe(12)}", "fullname=Load bench admin")
        ckan_cli(ini, "sysadmin", "add", "load_admin")
    out = ckan_cli(ini, "user", "token", "add", "load_admin", "load-bench")
    return out.strip().splitlines()[-1].strip()


class Stack:
    """The web role and the background worker, started and stopped by PID."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.url = f"http://127.0.0.1:{args.port}"
        self.procs: dict[str, subprocess.Popen] = {}
        self.ini = VAR / "load.ini"

    def setup(self) -> str:
        for d in ("log", "storage", "secrets"):
            (VAR / d).mkdir(parents=True, exist_ok=True)
        base = render_template(self.args.port, self.args.redis_port)
        self.ini = write_ini(self.args, base, "")
        prepare_databases(self.args, self.ini)
        token = admin_token(self.ini)
        self.ini = write_ini(self.args, base, token)
        (VAR / "secrets" / "api_token").write_text(token + "\n")
        return token

    def start(self, name: str, cmd: list[str], **env: str) -> None:
        with open(VAR / "log" / f"{name}.log", "ab") as logf:
            self.procs[name] = subprocess.Popen(
                cmd, env=clean_env(**env), stdout=logf, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True, cwd=ROOT)
        log(f"started {name} (PID {self.procs[name].pid}, log var/load/log/{name}.log)")

    def start_all(self) -> None:
        self.start("web", [str(ROOT / "bin" / "web"), str(self.ini), str(self.args.port)],
                   WEB_WORKERS=str(self.args.web_workers))
        self.start("worker", [*CKAN, "-c", str(self.ini), "jobs", "worker"])
        for role in ("gather", "fetch"):
            self.start(f"harvest-{role}", [*CKAN, "-c", str(self.ini), "harvester",
                                           f"{role}-consumer"])
        # the workflow's e-mail goes to a local sink, as `make run`'s mail catcher
        self.start("mail", [str(ROOT / ".venv" / "bin" / "python"), "-m", "aiosmtpd", "-n",
                            "-c", "aiosmtpd.handlers.Sink", "-l",
                            f"127.0.0.1:{os.environ.get('SMTP_PORT', '1025')}"])
        deadline = time.monotonic() + 180
        while not http_ok(self.url + "/api/3/action/status_show"):
            if time.monotonic() > deadline or self.procs["web"].poll() is not None:
                raise SystemExit("the web role did not start (var/load/log/web.log)")
            time.sleep(0.5)

    def web_pid(self) -> int | None:
        proc = self.procs.get("web")
        return proc.pid if proc else None

    def stop(self) -> None:
        for name, proc in reversed(list(self.procs.items())):
            procs.stop(proc, timeout=30)
            log(f"stopped {name} (PID {proc.pid})")


def http_ok(url: str) -> bool:
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


# --- seeding -------------------------------------------------------------------------

def demo_module() -> Any:
    spec = importlib.util.spec_from_file_location("binhphuoc_demo", ROOT / "bin" / "demo.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def seed(url: str, token: str, args: argparse.Namespace) -> dict[str, Any]:
    import yaml
    from ckanapi import RemoteCKAN

    log("demo content (bin/demo.py)")
    pw = VAR / "secrets" / "demo_password"
    tok = VAR / "secrets" / "api_token"
    tok.parent.mkdir(parents=True, exist_ok=True)
    tok.write_text(token + "\n")
    rc = subprocess.run([sys.executable, str(ROOT / "bin" / "demo.py"), "--url", url,
                         "--token-file", str(tok), "--password-file", str(pw),
                         "--timeout", "600"], stdout=subprocess.DEVNULL).returncode
    if rc not in (0, 2):
        sys.exit(f"bin/demo.py failed ({rc})")
    demo = demo_module()
    with open(ROOT / "config" / "demo" / "demo.yaml", encoding="utf-8") as f:
        specs = yaml.safe_load(f)["datasets"]
    tabular = [s for s in specs if any(r["format"].lower() in demo.TABULAR
                                       for r in s.get("resources", []))
               and s.get("workflow", "published") == "published"]
    admin = RemoteCKAN(url, apikey=token, user_agent="binhphuoc-load/1.0")
    new_res = []
    if args.extra:
        log(f"{args.extra} more datasets (copies of the demo's tabular ones)")
    for i in range(args.extra):
        spec = dict(tabular[i % len(tabular)])
        spec["name"] = f"{spec['name'][:80]}-ban-{i + 1}"
        spec["title"] = f"{spec['title']} (bản {i + 1})"
        spec["duplicate_confirmed"] = True  # a copy on purpose (R4's duplicate check)
        pkg = demo.ensure_dataset(admin, spec)
        demo.ensure_workflow_state(admin, spec, pkg)
        new_res += [r for r in pkg["resources"] if r["format"].lower() in demo.TABULAR]
    publishers = make_publishers(admin, demo, url, tabular, args.publishers)
    if new_res and not demo.wait_for_datastore(admin, new_res, 600):
        log("WARNING: some copies are not in the DataStore")
    return plan_of(url, publishers)


def make_publishers(admin: Any, demo: Any, url: str, specs: list[dict], n: int) -> list[dict]:
    from ckanapi import NotFound, RemoteCKAN

    out = []
    for i in range(1, n + 1):
        spec = dict(specs[i % len(specs)])
        name = f"load_publisher_{i}"
        try:
            admin.action.user_show(id=name)
        except NotFound:
            admin.action.user_create(name=name, email=f"{name}@example.com",
                                     password=secrets.token_urlsafe(12),
                                     fullname=f"Cán bộ đăng tải {i}")
        admin.action.organization_member_create(id=spec["owner_org"], username=name, role="editor")
        token = admin.action.api_token_create(user=name, name="load-bench")["token"]
        spec["name"] = f"load-ban-nhap-{i}"
        spec["title"] = f"Bản nháp của cán bộ {i}: {spec['title']}"
        spec["duplicate_confirmed"] = True
        spec["groups"] = []  # an editor may not add datasets to topics
        pub = RemoteCKAN(url, apikey=token, user_agent="binhphuoc-load/1.0")
        pkg = demo.ensure_dataset(pub, spec)
        out.append({"name": name, "token": token, "dataset": pkg["id"]})
    log(f"{n} publishers (editors, API tokens, a draft dataset each)")
    return out


def plan_of(url: str, publishers: list[dict]) -> dict[str, Any]:
    """What the users pick from: only what an anonymous visitor can see."""
    from ckanapi import RemoteCKAN

    anon = RemoteCKAN(url, user_agent="binhphuoc-load/1.0")
    pkgs = anon.action.package_search(q="*:*", rows=1000)["results"]
    resources = [dict(r, package=p["name"]) for p in pkgs for r in p.get("resources", [])]
    downloads = [urllib.parse.urlsplit(r["url"]).path for r in resources
                 if r.get("url_type") == "upload"]
    plan = {"datasets": [p["name"] for p in pkgs],
            "organizations": sorted({p["organization"]["name"] for p in pkgs}),
            "resources": [{"id": r["id"], "package": r["package"]} for r in resources],
            "downloads": downloads,
            "datastore": [r["id"] for r in resources if r.get("datastore_active")],
            "publishers": publishers}
    log(f"plan: {len(plan['datasets'])} public datasets, {len(resources)} resources, "
        f"{len(downloads)} uploaded files, {len(plan['datastore'])} DataStore tables")
    return plan


# --- during the run ------------------------------------------------------------------

class HarvestLoop(threading.Thread):
    """One harvest always running, as `make run` runs them: a job of SOURCE is
    created through the Action API (harvest_job_create, which queues it), the
    gather and fetch consumers of the stack do the work, harvest_jobs_run marks
    it finished; then the next job."""

    def __init__(self, url: str, token: str, source: str, stop: threading.Event):
        super().__init__(daemon=True)
        from ckanapi import RemoteCKAN

        self.api = RemoteCKAN(url, apikey=token, user_agent="binhphuoc-load/1.0")
        self.source, self.stop_event = source, stop
        self.runs: list[tuple[float, int]] = []
        self.errors: list[str] = []

    def run(self) -> None:
        try:
            self.loop()
        except Exception as e:  # noqa: BLE001  (reported as an error of the run)
            self.errors.append(f"the harvest loop stopped: {type(e).__name__}: {e}")

    def loop(self) -> None:
        source_id = self.api.action.harvest_source_show(id=self.source)["id"]
        while not self.stop_event.is_set():
            t = time.perf_counter()
            try:
                job = self.api.action.harvest_job_create(source_id=source_id, run=True)
                status = self.wait(job["id"], source_id)
            except Exception as e:  # noqa: BLE001  (reported, the load goes on)
                self.errors.append(f"{type(e).__name__}: {str(e)[:300]}")
                self.stop_event.wait(10)
                continue
            job = self.api.action.harvest_job_show(id=job["id"])
            stats = job.get("stats") or {}
            if status != "Finished" or stats.get("errored"):
                report = self.api.action.harvest_job_report(id=job["id"])
                self.errors.append(f"job {job['id']}: {status}, {stats}: {str(report)[:300]}")
            self.runs.append((time.perf_counter() - t, 0 if status == "Finished" else 1))

    def wait(self, job_id: str, source_id: str) -> str:
        """The job's status once finished (or when the run ends, bounded at 600 s)."""
        deadline = time.monotonic() + 600
        status = "New"
        while time.monotonic() < deadline:
            self.api.action.harvest_jobs_run(source_id=source_id)
            status = self.api.action.harvest_job_show(id=job_id)["status"]
            if status == "Finished":
                break
            time.sleep(3)
        return status

    def halt(self) -> None:
        """Let the job in hand finish (bounded)."""
        self.stop_event.set()
        self.join(timeout=120)


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def web_rss(master: int) -> tuple[float, list[int]]:
    """RSS (MB) of the gunicorn master and its workers, and the worker PIDs."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)],
                         capture_output=True, text=True).stdout
    workers = [int(p) for p in out.split()]
    return rss_mb(master) + sum(rss_mb(p) for p in workers), workers


def ensure_bench_venv() -> Path:
    locust = BENCH_VENV / "bin" / "locust"
    if not locust.exists():
        log("creating var/bench-venv (config/requirements-bench.txt)")
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        subprocess.run([str(BENCH_VENV / "bin" / "pip"), "install", "-q", "-r",
                        str(ROOT / "config" / "requirements-bench.txt")], check=True)
    return locust


def run_locust(url: str, args: argparse.Namespace, web_pid: int | None) -> list[tuple]:
    """Runs locust for --duration s; samples the web role's RSS every 5 s."""
    import json

    plan_file = VAR / "plan.json"
    prefix = VAR / "locust"
    total = args.users + args.publishers
    lo, hi = args.think.split(",")
    env = {**os.environ, "LOAD_PLAN": str(plan_file), "LOAD_PUBLISHERS": str(args.publishers),
           "LOAD_THINK_MIN": lo, "LOAD_THINK_MAX": hi,
           "LOAD_PUB_WEIGHT": "0" if not args.publishers else "1"}
    cmd = [str(ensure_bench_venv()), "-f", str(ROOT / "bench" / "load_users.py"), "--headless",
           "-u", str(total), "-r", str(max(1, min(total, 10))), "-t", f"{args.duration}s",
           "--stop-timeout", "10", "--host", url, "--csv", str(prefix), "--only-summary",
           "--loglevel", "WARNING"]
    assert json.loads(plan_file.read_text())["datasets"], "nothing to load"
    samples: list[tuple] = []
    started = time.monotonic()
    with open(VAR / "log" / "locust.log", "wb") as logf:
        proc = subprocess.Popen(cmd, env=env, stdout=logf, stderr=subprocess.STDOUT, cwd=ROOT)
        while proc.poll() is None:
            elapsed = time.monotonic() - started
            if web_pid:
                samples.append((elapsed, *web_rss(web_pid)))
            if elapsed > args.duration + 120:
                proc.kill()
                log("locust did not stop in time: killed")
            time.sleep(5)
    return samples


# --- the report ----------------------------------------------------------------------

def report(args: argparse.Namespace, samples: list[tuple], harvest: HarvestLoop | None) -> int:
    prefix = VAR / "locust"
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    failures = 0
    print("\n| request type | count | req/s | p50 ms | p95 ms | p99 ms | max ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        name = "**all**" if r["Name"] == "Aggregated" else r["Name"]
        failures += int(r["Failure Count"]) if r["Name"] != "Aggregated" else 0
        print(f"| {name} | {r['Request Count']} | {float(r['Requests/s']):.1f} | {r['50%']} | "
              f"{r['95%']} | {r['99%']} | {float(r['Max Response Time']):.0f} | "
              f"{r['Failure Count']} |")
    with open(f"{prefix}_failures.csv", newline="", encoding="utf-8") as f:
        for r in list(csv.DictReader(f))[:10]:
            print(f"error: {r['Method']} {r['Name']}: {r['Error'][:300]} (×{r['Occurrences']})")
    if harvest is not None:
        runs = harvest.runs
        ok = sum(1 for _, rc in runs if rc == 0)
        mean = sum(t for t, _ in runs) / len(runs) if runs else 0
        print(f"\nharvest ({args.harvest_source}): {len(runs)} runs, {ok} ok, "
              f"{mean:.1f} s each on average")
        for e in harvest.errors[:5]:
            print(f"harvest error: {e}")
        failures += len(harvest.errors)
    if samples:
        picks = [samples[0], samples[len(samples) // 2], samples[-1]]
        print("\nweb role RSS (gunicorn master + workers): " + ", ".join(
            f"{t:.0f} s: {mb:.0f} MB ({len(w)} workers)" for t, mb, w in picks))
        pids = {p for _, _, w in samples for p in w}
        print(f"worker PIDs seen during the run: {len(pids)}"
              + (" (gunicorn's max_requests replaced some)" if len(pids) > len(picks[0][2])
                 else ""))
    return 1 if failures else 0


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=50, help="anonymous users (default 50)")
    ap.add_argument("--publishers", type=int, default=5, help="publishers (default 5)")
    ap.add_argument("--duration", type=int, default=300, help="seconds (default 300)")
    ap.add_argument("--think", default="1,5", help="anonymous think time, min,max s (1,5)")
    ap.add_argument("--web-workers", type=int, default=4, help="gunicorn workers (default 4)")
    ap.add_argument("--port", type=int, default=int(os.environ.get("LOAD_PORT", "58500")))
    ap.add_argument("--redis-port", default=os.environ.get("REDIS_PORT", "26379"))
    ap.add_argument("--database", default="ckan_load")
    ap.add_argument("--datastore-database", default="datastore_load")
    ap.add_argument("--extra", type=int, default=40, help="copies of demo datasets (40)")
    ap.add_argument("--harvest-source", default="so-y-te-co-so-kham-chua-benh")
    ap.add_argument("--no-harvest", action="store_true")
    ap.add_argument("--url", help="attach to this running portal (loopback) instead")
    ap.add_argument("--token-file", help="with --url: a sysadmin's API token")
    ap.add_argument("--web-pid", type=int, help="with --url: the gunicorn master's PID")
    args = ap.parse_args()
    VAR.mkdir(parents=True, exist_ok=True)
    stack = None if args.url else Stack(args)
    harvest = None
    try:
        if stack is None:
            host = urllib.parse.urlsplit(args.url).hostname
            if host not in ("127.0.0.1", "localhost", "::1"):
                sys.exit("--url: loopback only")
            url, web_pid = args.url.rstrip("/"), args.web_pid
            token = Path(args.token_file).read_text().strip()
        else:
            token = stack.setup()
            stack.start_all()
            url, web_pid = stack.url, stack.web_pid()
        plan = seed(url, token, args)
        import json
        (VAR / "plan.json").write_text(json.dumps(plan, ensure_ascii=False))
        if stack is not None and not args.no_harvest:
            log(ckan_cli(stack.ini, "binhphuoc", "harvest", "sync", "--allow-missing-env").strip())
            harvest = HarvestLoop(url, token, args.harvest_source, threading.Event())
            harvest.start()
        print(f"uptime before: {uptime()}")
        log(f"locust: {args.users} anonymous + {args.publishers} publishers, {args.duration} s, "
            f"web workers {args.web_workers if stack else '?'}")
        samples = run_locust(url, args, web_pid)
        print(f"uptime after: {uptime()}")
        if harvest is not None:
            harvest.halt()
        return report(args, samples, harvest)
    finally:
        if harvest is not None:
            harvest.halt()
        if stack is not None:
            stack.stop()


if __name__ == "__main__":
    sys.exit(main())
