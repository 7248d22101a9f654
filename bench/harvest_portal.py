"""Harvest speed between portals (issue 18, item 5).

Starts a second portal on loopback — a real ``ckan run`` server with its own
database playing another province's plain-CKAN old portal, as
tests/harvest/remote_portal.py does, with ckanext-dcat's ``dcat`` plugin so
that it also serves ``/catalog.ttl`` — fills it with N datasets (default
1,000, 1–3 resources each, Vietnamese metadata in the shape the ``ckan_vn``
harvester tests use: old-style extras "Phạm vi", "Lĩnh vực", "Tần suất cập
nhật", "ma_tinh", CKAN licence ids, tags) through its Action API (4 client
threads), then harvests all of them into a local portal loaded in-process
(the bundle's schema, workflow, guard, pgsearch, ckanext-harvest) through

- the ``ckan_vn`` source type (plugin binhphuoc_ckan_harvester, harvest/portal.py)
- the ``dcat_rdf`` source type with our mapping (plugin binhphuoc_dcat_harvester,
  harvest/dcat.py), reading the remote's paged ``/catalog.ttl``

each job run the way the test suite runs it (tests/harvest/test_sql_harvester.py,
``run_via_queue``): harvest_job_create, the gather consumer's message, every
fetch message (fetch + import), harvest_jobs_run. It prints, per run, the
datasets/s from job creation to the finished job (and the gather / import
split) and the process's peak resident memory during the run (VmHWM, reset
before each run through /proc/self/clear_refs), and the median over the runs.
Between runs the harvested datasets are purged.

    make services
    . ./helper.env   # (helper sessions only: own Redis and database suffix)
    .venv/bin/python bench/harvest_portal.py                 # 1,000 datasets, 3 runs each
    .venv/bin/python bench/harvest_portal.py --n 200 --runs 1 --sources ckan_vn
    .venv/bin/python bench/harvest_portal.py --profile var/harvest.prof --sources ckan_vn

Databases (on the project's cluster, dropped at the end unless ``--keep``;
a kept remote holding N datasets is reused): ``bench_portal_remote`` and
``bench_portal_local``, each with $BINHPHUOC_TEST_DB_SUFFIX appended. The
remote server is stopped by its PID. Figures go to docs/benchmarks.md by hand.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from tests import servers  # noqa: E402
from tests.e2e.conftest import LiveServer, server_env  # noqa: E402
from tests.schema.conftest import VALID_DATASET  # noqa: E402
from tests.workflow.conftest import VERIFIER_ORG, WORKFLOW_PLUGINS  # noqa: E402

REMOTE_DB = "bench_portal_remote" + servers.DB_SUFFIX
LOCAL_DB = "bench_portal_local" + servers.DB_SUFFIX
PROFILES = "euro_dcat_ap_2"
REMOTE = {
    "sqlalchemy.url": servers.pg_url(REMOTE_DB),
    "solr_url": "pgsearch://%s" % REMOTE_DB,
    "ckan.plugins": "binhphuoc_pgsearch dcat",
    "ckanext.dcat.rdf.profiles": PROFILES,
    "ckan.site_id": "bench-portal-remote",
    "ckan.site_title": "Cổng dữ liệu tỉnh Bình Phước (cũ)",
    "ckan.locale_default": "vi",
    "ckan.auth.create_unowned_dataset": "false",
    "ckan.datastore.write_url": "",
    "ckan.datastore.read_url": "",
}
LOCAL = {
    "testing": "false",
    "sqlalchemy.url": servers.pg_url(LOCAL_DB),
    "solr_url": "pgsearch://%s" % LOCAL_DB,
    # the harvest and view plugins of config/ckan.ini.template (not xloader: no jobs)
    "ckan.plugins": WORKFLOW_PLUGINS + " datatables_view text_view image_view harvest"
                    " binhphuoc_harvest binhphuoc_ckan_harvester dcat_rdf_harvester"
                    " binhphuoc_dcat_harvester",
    "ckan.views.default_views": "image_view datatables_view text_view",
    "ckanext.dcat.rdf.profiles": PROFILES,
    "ckan.site_id": "bench-portal-local",
    "scheming.dataset_schemas": "ckanext.binhphuoc.schemas:dataset.yaml",
    "scheming.organization_schemas": "ckanext.binhphuoc.schemas:organization.yaml",
    "scheming.group_schemas": "ckanext.binhphuoc.schemas:group.yaml",
    "ckanext.binhphuoc.workflow.verifier_org": VERIFIER_ORG,
    "ckan.auth.create_unowned_dataset": "false",
    "ckan.redis.url": "redis://127.0.0.1:%s/3" % servers.REDIS_PORT,
    "ckan.harvest.mq.type": "redis",
    "ckan.harvest.mq.hostname": "127.0.0.1",
    "ckan.harvest.mq.port": servers.REDIS_PORT,
    "ckan.harvest.mq.redis_db": "7",
    "ckan.storage_path": str(ROOT / "var" / "bench-portal-storage"),
}
LOCAL_MIGRATIONS = ("activity", "binhphuoc_pgsearch", "binhphuoc_schema", "binhphuoc_workflow",
                    "harvest")
ADMIN = "quan-tri-cu"

DEFAULTS = {k: v for k, v in VALID_DATASET.items() if k not in ("title", "notes")}
SOURCES = {
    "ckan_vn": {"defaults": DEFAULTS, "legacy_province": "70", "timeout_seconds": 60},
    "dcat_rdf": {"binhphuoc_mapping": True, "legacy_province": "70",
                 "defaults": {k: v for k, v in DEFAULTS.items() if k != "update_frequency"}
                 | {"update_frequency": "khong_dinh_ky"}},
}

# -- the remote's datasets -------------------------------------------------

TOPICS = [
    ("Danh sách trường mầm non", "Giáo dục"), ("Điểm quan trắc nước mặt", "Tài nguyên"),
    ("Bảng giá đất nông nghiệp", "Tài nguyên"), ("Cơ sở khám chữa bệnh", "Y tế"),
    ("Doanh nghiệp thành lập mới", "Kinh tế"), ("Tuyến xe buýt nội tỉnh", "Giao thông"),
    ("Hợp tác xã nông nghiệp", "Nông nghiệp"), ("Di tích lịch sử văn hóa", "Văn hóa"),
    ("Cơ sở lưu trú du lịch", "Du lịch"), ("Chợ truyền thống", "Thương mại"),
    ("Điểm thu gom rác thải", "Tài nguyên"), ("Lịch tiếp công dân", "Hành chính"),
    ("Trạm y tế xã", "Y tế"), ("Diện tích gieo trồng cây lâu năm", "Nông nghiệp"),
    ("Số hộ nghèo và cận nghèo", "Lao động"), ("Công trình thủy lợi", "Nông nghiệp"),
]
PLACES = ["Huyện Bù Đăng", "Thành phố Đồng Xoài", "Thị xã Bình Long", "Thị xã Phước Long",
          "Huyện Lộc Ninh", "Huyện Bù Gia Mập", "Huyện Chơn Thành", "Huyện Đồng Phú",
          "Huyện Hớn Quản", "Huyện Bù Đốp", "Huyện Phú Riềng"]
FREQUENCIES = ["Hằng năm", "Hằng quý", "Hằng tháng", "Không định kỳ"]
LICENCES = ["cc-by", "cc-zero", "odc-by", "cc-by-sa", "notspecified", "other-open"]
FORMATS = [("CSV", "csv"), ("XLSX", "xlsx"), ("JSON", "json"), ("PDF", "pdf")]
TAGS = ["môi trường", "quan trắc", "giáo dục", "y tế", "đất đai", "nông nghiệp", "giao thông",
        "du lịch", "doanh nghiệp", "thống kê", "hành chính", "văn hóa"]
AGENCIES = ["Sở Tài nguyên và Môi trường", "Sở Giáo dục và Đào tạo", "Sở Y tế",
            "Cục Thống kê tỉnh", "Sở Nông nghiệp và Phát triển nông thôn"]


def remote_dataset(i: int, rng: random.Random, org_id: str) -> dict:
    topic, sector = TOPICS[i % len(TOPICS)]
    place = PLACES[(i // len(TOPICS)) % len(PLACES)]
    year = 2015 + i // (len(TOPICS) * len(PLACES))
    title = "%s %s năm %d" % (topic, place.split(" ", 1)[1], year)
    name = "bo-du-lieu-%04d" % i
    resources = [{"name": "%s (%s)" % (topic, fmt), "format": fmt,
                  "url": "http://tep.cu.example.vn/%s/%d.%s" % (name, k, ext),
                  "description": "Tệp %s của bộ dữ liệu %s." % (fmt, title.lower())}
                 for k, (fmt, ext) in enumerate(rng.sample(FORMATS, rng.randint(1, 3)))]
    return {
        "name": name, "title": title, "owner_org": org_id,
        "notes": "%s trên địa bàn %s, số liệu năm %d do %s cung cấp." % (
            topic, place.lower(), year, rng.choice(AGENCIES)),
        "license_id": rng.choice(LICENCES),
        "tags": [{"name": t} for t in rng.sample(TAGS, rng.randint(1, 4))],
        "resources": resources,
        "extras": [{"key": "Phạm vi", "value": place},
                   {"key": "ma_tinh", "value": "70"},
                   {"key": "Lĩnh vực", "value": sector},
                   {"key": "Tần suất cập nhật", "value": rng.choice(FREQUENCIES)},
                   {"key": "Đơn vị cung cấp", "value": rng.choice(AGENCIES)}],
    }


# -- databases and the remote server ----------------------------------------

def _admin():
    return sa.create_engine(servers.PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def _exists(db: str) -> bool:
    with _admin().connect() as conn:
        return bool(conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :d"),
                                 {"d": db}).scalar())


def create_db(db: str) -> None:
    with _admin().connect() as conn:
        conn.execute(sa.text("CREATE DATABASE %s OWNER ckan" % db))


def drop_db(db: str) -> None:
    with _admin().connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": db})
        conn.execute(sa.text("DROP DATABASE IF EXISTS %s" % db))


def ckan_cli(ini: Path, overrides: dict, *args: str) -> str:
    done = subprocess.run([str(ROOT / ".venv/bin/ckan"), "-c", str(ini), *args],
                          env=server_env(overrides), capture_output=True, text=True,
                          timeout=600, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        sys.exit("ckan %s failed:\n%s\n%s" % (" ".join(args), done.stdout[-2000:],
                                              done.stderr[-2000:]))
    return done.stdout


def remote_count(db: str) -> int:
    engine = sa.create_engine(servers.pg_url(db))
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(
                "SELECT count(*) FROM package WHERE state = 'active' AND type = 'dataset'")
            ).scalar() or 0
    except sa.exc.SQLAlchemyError:
        return -1
    finally:
        engine.dispose()


def start_remote(n: int, workdir: Path) -> tuple[LiveServer, str]:
    server = LiveServer(dict(REMOTE, **{"ckan.storage_path": str(workdir / "files")}), workdir)
    server._write_ini()
    reuse = _exists(REMOTE_DB) and remote_count(REMOTE_DB) == n
    if not reuse:
        drop_db(REMOTE_DB)
        create_db(REMOTE_DB)
        ckan_cli(server.ini, REMOTE, "db", "init")
        ckan_cli(server.ini, REMOTE, "db", "upgrade", "-p", "binhphuoc_pgsearch")
        ckan_cli(server.ini, REMOTE, "user", "add", ADMIN, "email=quantri@cu.example.vn",
                 "password=Mat-khau-thu-nghiem-1")
        ckan_cli(server.ini, REMOTE, "sysadmin", "add", ADMIN)
    token = ckan_cli(server.ini, REMOTE, "user", "token", "add", ADMIN, "bench"
                     ).strip().splitlines()[-1].strip()
    server.start()
    print("remote portal %s (PID %s, database %s)%s" % (
        server.url, server.pid, REMOTE_DB, ", reused" if reuse else ""), flush=True)
    if not reuse:
        fill_remote(server.url, token, n)
    return server, token


def fill_remote(url: str, token: str, n: int) -> None:
    from ckanapi import RemoteCKAN

    api = RemoteCKAN(url, apikey=token)
    org = api.action.organization_create(
        name="so-tai-nguyen-cu", title="Sở Tài nguyên và Môi trường tỉnh Bình Phước")
    rng = random.Random(18)
    items = [remote_dataset(i, rng, org["id"]) for i in range(n)]

    def create(item: dict) -> None:
        RemoteCKAN(url, apikey=token).action.package_create(**item)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(create, items))
    seconds = time.perf_counter() - t0
    print("remote filled: %d datasets, %d resources in %.0f s (%.0f datasets/s through "
          "its Action API, 4 threads)" % (n, sum(len(d["resources"]) for d in items),
                                          seconds, n / seconds), flush=True)


# -- the local portal, in-process --------------------------------------------

def local_app(workdir: Path):
    ini = workdir / "local.ini"
    server = LiveServer(LOCAL, workdir)
    server.ini = ini
    server.config.pop("WTF_CSRF_ENABLED", None)
    server._write_ini()
    drop_db(LOCAL_DB)
    create_db(LOCAL_DB)
    ckan_cli(ini, LOCAL, "db", "init")
    for plugin in LOCAL_MIGRATIONS:
        ckan_cli(ini, LOCAL, "db", "upgrade", "-p", plugin)
    # the in-process app must not take the helper's/test run's database from the environment
    for key in list(os.environ):
        if key.startswith("CKAN_") and key not in server_env(LOCAL):
            os.environ.pop(key)
    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    app = make_app(load_config(str(ini)))
    logging.disable(logging.ERROR)  # the purges between runs log noise
    return app


def setup_local() -> dict:
    from ckan.plugins import toolkit as tk

    ctx = {"ignore_auth": True, "user": tk.get_action("get_site_user")(
        {"ignore_auth": True}, {})["name"]}
    org = tk.get_action("organization_create")(dict(ctx), {
        "name": "so-tai-nguyen", "title": "Sở Tài nguyên và Môi trường",
        "agency_code": "000.00.30.H10", "agency_level": "tinh"})
    tk.get_action("organization_create")(dict(ctx), {
        "name": VERIFIER_ORG, "title": "Sở Khoa học và Công nghệ",
        "agency_code": "000.00.23.H10", "agency_level": "tinh"})
    return org


def run_job(source: dict, consumers: list | None = None) -> dict:
    """One job through ckanext-harvest's Redis queues, with the time of each
    stage: the gather message consumed in-process, then every fetch message
    (fetch + import) consumed in-process as the tests do, or, with
    ``consumers``, by those `ckan harvester fetch-consumer` processes (the job
    is done when every harvest object is COMPLETE or ERROR)."""
    from ckan import model
    from ckan.plugins import toolkit as tk
    from ckanext.harvest import queue
    from ckanext.harvest.model import HarvestObject

    context = {"user": tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"],
               "ignore_auth": True, "model": model, "session": model.Session}
    gather, fetch = queue.get_gather_consumer(), queue.get_fetch_consumer()
    gather.queue_purge(queue=queue.get_gather_queue_name())
    if not consumers:
        fetch.queue_purge(queue=queue.get_fetch_queue_name())
    t0 = time.perf_counter()
    job = tk.get_action("harvest_job_create")(dict(context), {"source_id": source["id"],
                                                              "run": True})
    reply = gather.basic_get(queue=queue.get_gather_queue_name())
    queue.gather_callback(gather, *reply)
    t1 = time.perf_counter()
    if consumers:
        objects = model.Session.query(HarvestObject).filter(
            HarvestObject.harvest_job_id == job["id"])
        total = objects.count()
        while True:
            model.Session.commit()  # a fresh snapshot
            if objects.filter(HarvestObject.state.in_(["COMPLETE", "ERROR"])).count() >= total:
                break
            if any(c.poll() is not None for c in consumers):
                sys.exit("a fetch consumer died; its log: %s" % consumers[0].args)
            time.sleep(0.1)
    else:
        while True:
            reply = fetch.basic_get(queue=queue.get_fetch_queue_name())
            if not reply[2]:
                break
            queue.fetch_callback(fetch, *reply)
    tk.get_action("harvest_jobs_run")(dict(context), {"source_id": source["id"]})
    t2 = time.perf_counter()
    out = tk.get_action("harvest_job_show")(dict(context), {"id": job["id"]})
    out["gather_s"], out["import_s"] = t1 - t0, t2 - t1
    return out


def start_consumers(ini: Path, n: int) -> list[subprocess.Popen]:
    """``n`` `ckan harvester fetch-consumer` processes on the local portal's
    ini, as production runs the fetch stage (stopped by their PIDs)."""
    procs = []
    for i in range(n):
        with open(ini.parent / ("fetch-consumer-%d.log" % i), "ab") as log:
            procs.append(subprocess.Popen(
                [str(ROOT / ".venv/bin/ckan"), "-c", str(ini), "harvester", "fetch-consumer"],
                env=server_env(LOCAL), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT))
    time.sleep(1)
    return procs


def stop_consumers(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def job_errors(job_id: str) -> list[str]:
    from ckan import model
    from ckanext.harvest.model import HarvestGatherError, HarvestObject, HarvestObjectError

    return [e.message for e in model.Session.query(HarvestGatherError)
            .filter(HarvestGatherError.harvest_job_id == job_id)] + [
        e.message for e in model.Session.query(HarvestObjectError)
        .join(HarvestObject).filter(HarvestObject.harvest_job_id == job_id)]


def purge_harvested() -> None:
    """Every dataset of the local portal and every harvest source, gone."""
    from ckan import model
    from ckan.plugins import toolkit as tk

    ctx = {"ignore_auth": True, "user": tk.get_action("get_site_user")(
        {"ignore_auth": True}, {})["name"]}
    ids = [r[0] for r in model.Session.query(model.Package.id).filter(
        model.Package.type == "dataset")]
    for source in model.Session.query(model.Package.id).filter(
            model.Package.type == "harvest"):
        tk.get_action("harvest_source_clear")(dict(ctx), {"id": source[0]})
        tk.get_action("dataset_purge")(dict(ctx), {"id": source[0]})
    for package_id in ids:
        if model.Package.get(package_id) is not None:
            tk.get_action("dataset_purge")(dict(ctx), {"id": package_id})
    model.Session.commit()


def _status_mb(field: str, pid: int | str = "self") -> float:
    try:
        with open("/proc/%s/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak(pid: int | str = "self") -> None:
    try:
        with open("/proc/%s/clear_refs" % pid, "w") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
    except OSError:
        pass


def _cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU seconds of a process (/proc/PID/stat)."""
    with open("/proc/%s/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pg_backends(*dbs: str) -> dict[int, float]:
    """CPU seconds so far of the PostgreSQL backends connected to ``dbs``."""
    with _admin().connect() as conn:
        pids = [r[0] for r in conn.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = ANY(:d)"), {"d": list(dbs)})]
    out = {}
    for pid in pids:
        try:
            out[pid] = _cpu_seconds(pid)
        except OSError:
            pass
    return out


def pg_cpu(before: dict[int, float], *dbs: str) -> float:
    """CPU seconds the backends of ``dbs`` used since ``before`` (backends that
    ended in between are not counted)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in pg_backends(*dbs).items())


def harvest(kind: str, url: str, org: dict, n: int, run: int, profile: str | None,
            consumers: list[subprocess.Popen], remote_pid: int) -> dict:
    from ckan.plugins import toolkit as tk

    ctx = {"ignore_auth": True, "user": tk.get_action("get_site_user")(
        {"ignore_auth": True}, {})["name"]}
    source = tk.get_action("harvest_source_create")(dict(ctx), {
        "name": "cong-cu-%s-%d" % (kind.replace("_", "-"), run),
        "title": "Cổng dữ liệu tỉnh Bình Phước (cũ)",
        "url": url + ("/catalog.ttl" if kind == "dcat_rdf" else ""),
        "source_type": kind, "owner_org": org["id"], "config": json.dumps(SOURCES[kind])})
    pids: list[int | str] = ["self"] + [c.pid for c in consumers]
    for pid in pids:
        _reset_peak(pid)
    before = _status_mb("VmRSS")
    cpu0 = [_cpu_seconds(pid) for pid in pids]
    local_pg0, remote_pg0 = pg_backends(LOCAL_DB), pg_backends(REMOTE_DB)
    remote0 = _cpu_seconds(remote_pid)
    load0 = os.getloadavg()[0]
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)  # CPU time: not the waits
        profiler.enable()
    job = run_job(source, consumers)
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    cpu = [_cpu_seconds(pid) - c for pid, c in zip(pids, cpu0)]
    local_pg = pg_cpu(local_pg0, LOCAL_DB)
    remote_cpu = _cpu_seconds(remote_pid) - remote0 + pg_cpu(remote_pg0, REMOTE_DB)
    stats = job["stats"]
    added = stats.get("added", 0)
    seconds = job["gather_s"] + job["import_s"]
    out = {"kind": kind, "added": added, "seconds": seconds, "rate": added / seconds,
           "gather_s": job["gather_s"], "import_s": job["import_s"],
           "rss_before": before, "peak": max(_status_mb("VmHWM", pid) for pid in pids),
           "cpu": sum(cpu), "pg_cpu": local_pg, "remote_cpu": remote_cpu,
           "load": (load0, os.getloadavg()[0])}
    workers = " by %d fetch consumers" % len(consumers) if consumers else ""
    print("  %-8s run %d: %d/%d added%s in %.1f s = %.1f datasets/s (gather %.1f s, "
          "fetch+import %.1f s)\n    CPU per dataset: harvester %.1f ms (%s s), its "
          "PostgreSQL backends %.1f ms, the remote portal and its backends %.1f ms; "
          "peak RSS %.0f MB (%.0f MB before); load %.2f → %.2f" % (
              kind, run, added, n, workers, seconds, out["rate"], job["gather_s"],
              job["import_s"], 1000 * out["cpu"] / max(added, 1),
              " + ".join("%.1f" % c for c in cpu), 1000 * local_pg / max(added, 1),
              1000 * remote_cpu / max(added, 1), out["peak"], before, *out["load"]),
          flush=True)
    if added != n:
        errors = job_errors(job["id"])
        print("    not all added: %s; first errors: %s" % (stats, errors[:3]), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sources", default="ckan_vn,dcat_rdf")
    ap.add_argument("--profile", help="write cProfile stats of the last run of each source "
                                      "to PATH.<source>")
    ap.add_argument("--workers", type=int, default=0,
                    help="run the fetch stage in W `ckan harvester fetch-consumer` processes"
                         " (as production does) instead of in-process")
    ap.add_argument("--keep", action="store_true", help="keep both databases")
    args = ap.parse_args()
    kinds = [k for k in args.sources.split(",") if k]
    workdir = Path(tempfile.mkdtemp(prefix="bench-portal-"))
    server = None
    consumers: list[subprocess.Popen] = []
    results: dict[str, list[dict]] = {k: [] for k in kinds}
    try:
        server, _token = start_remote(args.n, workdir)
        app = local_app(workdir)
        print("local portal in-process (database %s); %d CPUs; load %s" % (
            LOCAL_DB, os.cpu_count(), " ".join("%.2f" % x for x in os.getloadavg())),
            flush=True)
        consumers = start_consumers(workdir / "local.ini", args.workers)
        with app._wsgi_app.test_request_context():
            org = setup_local()
            for run in range(1, args.runs + 1):
                for kind in kinds:
                    profile = ("%s.%s" % (args.profile, kind)
                               if args.profile and run == args.runs else None)
                    results[kind].append(harvest(kind, server.url, org, args.n, run, profile,
                                                 consumers, server.pid))
                    purge_harvested()
        for kind, rows in results.items():
            def med(key: str, rows: list[dict] = rows) -> float:
                return statistics.median(1000 * r[key] / max(r["added"], 1) for r in rows)

            local_ms = med("cpu") + med("pg_cpu")
            print("%s: median %.1f datasets/s over %d runs (%s); CPU median per dataset: "
                  "harvester %.0f ms + its PostgreSQL %.0f ms (= %.0f datasets/s per core), "
                  "remote %.0f ms; peak RSS median %.0f MB; load at the end %s" % (
                      kind, statistics.median(r["rate"] for r in rows), len(rows),
                      ", ".join("%.1f" % r["rate"] for r in rows), med("cpu"), med("pg_cpu"),
                      1000 / local_ms, med("remote_cpu"),
                      statistics.median(r["peak"] for r in rows),
                      ", ".join("%.1f" % r["load"][1] for r in rows)))
    finally:
        stop_consumers(consumers)
        if server is not None:
            server.stop()
        if not args.keep:
            drop_db(LOCAL_DB)
            drop_db(REMOTE_DB)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
