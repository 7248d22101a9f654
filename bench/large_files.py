"""Large files (issue 21, item 3): a 2 GB upload through the web role and a
1,000,000-row CSV through ckanext-xloader, with the peak memory of the
process doing the work.

    make services                                       # PostgreSQL and Redis
    .venv/bin/python bench/large_files.py upload        # 2 GB (--size-mb N)
    .venv/bin/python bench/large_files.py xloader       # 1,000,000 rows (--rows N)

``upload`` starts bin/web with WEB_WORKERS=1 (gunicorn, as `make run` with
WEB_WORKERS) from a temporary ini inheriting --ini (default config/test.ini;
the CKAN_* variables of the environment win, so a helper's or CI's own
databases are used), streams a generated file as a multipart resource_create
(the client holds 1 MB at a time), samples the worker's RSS every 50 ms, checks
the recorded sha256 and size against the file's, asks for a range and
downloads the whole file back hashing it.

``xloader`` starts the same web role plus `ckan jobs worker` (the background
worker of `make run`), uploads a generated CSV of --rows rows and 8 columns
(codes with leading zeros, Vietnamese names, numbers, dates), waits until
xloader_status is complete and the table is typed (binhphuoc_schema's
after_upload), and prints the time and the peak RSS of the worker and its
forked job process (RQ runs each job in a child).

Everything runs on loopback; the servers are stopped by their PID. Data go to
the database of --ini (a sysadmin ``bench-files``, an organisation and a
dataset ``bench-large-files`` are created or reused). Figures:
docs/benchmarks.md, "Large files".
"""
from __future__ import annotations

import argparse
import configparser
import csv
import hashlib
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from procs import stop  # noqa: E402  (bench/procs.py)
from tests.files.streams import BLOCK, MultipartUpload, expected, rss_mb, sha256  # noqa: E402
from tests.schema.conftest import SCHEMA_PLUGINS, VALID_DATASET  # noqa: E402

CKAN = ROOT / ".venv" / "bin" / "ckan"
USER = "bench-files"


def descendants(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    kids: dict[int, list[int]] = {}
    for line in out.splitlines():
        p, pp = (int(x) for x in line.split())
        kids.setdefault(pp, []).append(p)
    found, todo = [], [pid]
    while todo:
        for child in kids.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class Peak(threading.Thread):
    """Peak RSS of the largest process among ``pid`` and its descendants."""

    def __init__(self, pid: int, with_children: bool = False):
        super().__init__(daemon=True)
        self.pid, self.with_children, self.peak = pid, with_children, 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            pids = [self.pid] + (descendants(self.pid) if self.with_children else [])
            for p in pids:
                try:
                    self.peak = max(self.peak, rss_mb(p))
                except OSError:
                    pass
            time.sleep(0.05)

    def stop(self) -> float:
        self.done.set()
        self.join()
        return self.peak


def write_ini(args: argparse.Namespace, tmp: Path, port: int, extra: dict[str, str]) -> Path:
    src = configparser.RawConfigParser(strict=False)
    src.optionxform = str  # type: ignore[assignment,method-assign]
    src.read(args.ini, encoding="utf-8")
    out = configparser.RawConfigParser()
    out.optionxform = str  # type: ignore[assignment,method-assign]
    out["app:main"] = {
        "use": f"config:{Path(args.ini).resolve()}",
        "ckan.site_url": f"http://127.0.0.1:{port}",
        "ckan.storage_path": str(tmp / "storage"),
        "ckan.max_resource_size": "4096",
        "scheming.dataset_schemas": "ckanext.binhphuoc.schemas:dataset.yaml",
        "scheming.organization_schemas": "ckanext.binhphuoc.schemas:organization.yaml",
        "scheming.group_schemas": "ckanext.binhphuoc.schemas:group.yaml",
        **extra,
    }
    for section in src.sections():
        if section.startswith(("logger", "handler", "formatter")):
            out[section] = dict(src[section])
    ini = tmp / "bench-large.ini"
    with open(ini, "w", encoding="utf-8") as f:
        out.write(f)
    return ini


def env_for(ini_url: str, tmp: Path) -> dict[str, str]:
    env = {**os.environ, "CKAN_SITE_URL": ini_url, "TMPDIR": str(tmp), "WEB_WORKERS": "1"}
    env.pop("CKAN_INI", None)
    env.pop("CKAN_STORAGE_PATH", None)
    env.pop("CKAN_MAX_UPLOAD_SIZE_MB", None)
    return env


def ckan(ini: Path, env: dict[str, str], *args: str) -> str:
    return subprocess.run([str(CKAN), "-c", str(ini), *args], env=env, check=True,
                          capture_output=True, text=True).stdout


def token_for(ini: Path, env: dict[str, str]) -> str:
    users = ckan(ini, env, "user", "list")
    if f"name={USER}" not in users and USER not in users:
        ckan(ini, env, "user", "add", USER, f"email={USER}@example.com",
             "password=bench-files-123456")
    ckan(ini, env, "sysadmin", "add", USER)
    return ckan(ini, env, "user", "token", "add", USER, "bench").strip().splitlines()[-1].strip()


def start_web(ini: Path, port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as logf:
        proc = subprocess.Popen([str(ROOT / "bin" / "web"), str(ini), str(port)], env=env,
                                stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/3/action/status_show",
                            timeout=30).ok:
                return proc
        except requests.RequestException:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            sys.exit(f"the web role did not start (log {log})")
        time.sleep(0.3)


def api(url: str, token: str, action: str, **data: Any) -> Any:
    r = requests.post(f"{url}/api/3/action/{action}", json=data, timeout=120,
                      headers={"Authorization": token})
    if not r.ok:
        raise RuntimeError(f"{action}: {r.status_code} {r.text[:500]}")
    return r.json()["result"]


def dataset(url: str, token: str) -> str:
    try:
        return api(url, token, "package_show", id="bench-large-files")["id"]
    except RuntimeError:
        pass
    try:
        org = api(url, token, "organization_show", id="bench-files-org")
    except RuntimeError:
        org = api(url, token, "organization_create", name="bench-files-org",
                  title="Sở Thử nghiệm", agency_code="000.00.99.H10", agency_level="tinh")
    return api(url, token, "package_create", name="bench-large-files",
               **dict(VALID_DATASET, owner_org=org["id"], title="Tệp lớn (đo hiệu năng)",
                      duplicate_confirmed=True))["id"]


def web_worker(master: int) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        kids = descendants(master)
        if kids:
            return kids[0]
        time.sleep(0.2)
    sys.exit("no gunicorn worker")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_upload(args: argparse.Namespace, tmp: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ini = write_ini(args, tmp, port, {"ckan.plugins": SCHEMA_PLUGINS})
    env = env_for(url, tmp)
    token = token_for(ini, env)
    proc = start_web(ini, port, env, tmp / "web.log")
    try:
        pkg = dataset(url, token)
        worker = web_worker(proc.pid)
        size = args.size_mb * BLOCK
        print(f"generating the expected sha256 of {args.size_mb} MB...", flush=True)
        local = sha256(size)
        small = MultipartUpload({"package_id": pkg, "name": "warm"}, "warm.bin", BLOCK)
        requests.post(url + "/api/3/action/resource_create", data=small, timeout=60,
                      headers={"Authorization": token, "Content-Type": small.content_type})
        before = rss_mb(worker)
        body = MultipartUpload({"package_id": pkg, "name": "2 GB"}, "lon.bin", size)
        peak = Peak(worker)
        peak.start()
        t0 = time.perf_counter()
        r = requests.post(url + "/api/3/action/resource_create", data=body, timeout=3600,
                          headers={"Authorization": token, "Content-Type": body.content_type})
        took = time.perf_counter() - t0
        top = peak.stop()
        r.raise_for_status()
        res = r.json()["result"]
        print(f"upload {args.size_mb} MB: {took:.1f} s ({args.size_mb / took:.0f} MB/s); "
              f"worker RSS {before:.0f} MB before, peak {top:.0f} MB (+{top - before:.0f} MB)")
        print(f"sha256 recorded == local: {res['sha256'] == local}; size {res['size'] == size}")
        start = size // 2
        t0 = time.perf_counter()
        part = requests.get(res["url"], headers={"Range": f"bytes={start}-{start + BLOCK - 1}"},
                            timeout=60)
        ok = part.status_code == 206 and part.content == expected(size, start, start + BLOCK - 1)
        print(f"range of 1 MB in the middle: {part.status_code}, bytes right: {ok}, "
              f"{(time.perf_counter() - t0) * 1000:.0f} ms")
        digest, t0 = hashlib.sha256(), time.perf_counter()
        peak = Peak(worker)
        peak.start()
        with requests.get(res["url"], stream=True, timeout=3600) as whole:
            for chunk in whole.iter_content(BLOCK):
                digest.update(chunk)
        took, top = time.perf_counter() - t0, peak.stop()
        print(f"download: {took:.1f} s, worker peak RSS {top:.0f} MB, "
              f"sha256 of the download == recorded: {digest.hexdigest() == res['sha256']}")
        api(url, token, "resource_delete", id=res["id"])
    finally:
        stop(proc)


def write_csv(path: Path, rows: int) -> None:
    rnd = random.Random(21)
    names = ["Đồng Xoài", "Bình Long", "Phước Long", "Chơn Thành", "Lộc Ninh", "Bù Đăng"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Mã hộ", "Tên xã", "Số người", "Thu nhập", "Diện tích (m²)",
                    "Ngày khảo sát", "Ghi chú", "Mã xã"])
        for i in range(rows):
            w.writerow([f"{i:08d}", rnd.choice(names), rnd.randint(1, 9),
                        rnd.randint(1_000_000, 90_000_000), f"{rnd.uniform(20, 900):.2f}",
                        f"2025-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                        "" if i % 7 else "hộ nghèo", f"{25432 + i % 40:05d}"])


def bench_xloader(args: argparse.Namespace, tmp: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    db = os.environ.get("CKAN_SQLALCHEMY_URL") or "postgresql://ckan@127.0.0.1:25432/ckan_test"
    base = {"ckan.plugins": SCHEMA_PLUGINS + " xloader", "ckanext.xloader.jobs_db.uri": db,
            "ckanext.xloader.site_url": url, "ckanext.xloader.unidecode_headers": "false",
            "ckanext.xloader.use_type_guessing": "false", "ckanext.xloader.job_timeout": "3600"}
    ini = write_ini(args, tmp, port, base)
    env = env_for(url, tmp)
    token = token_for(ini, env)
    ini = write_ini(args, tmp, port, {**base, "ckanext.xloader.api_token": token})
    path = tmp / "million.csv"
    write_csv(path, args.rows)
    print(f"CSV: {args.rows} rows, {path.stat().st_size / BLOCK:.0f} MB", flush=True)
    web = start_web(ini, port, env, tmp / "web.log")
    with open(tmp / "worker.log", "wb") as logf:
        worker = subprocess.Popen([str(CKAN), "-c", str(ini), "jobs", "worker"], env=env,
                                  stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        pkg = dataset(url, token)
        time.sleep(3)
        base_rss = rss_mb(worker.pid)
        peak = Peak(worker.pid, with_children=True)
        peak.start()
        t0 = time.perf_counter()
        with open(path, "rb") as f:
            r = requests.post(url + "/api/3/action/resource_create", timeout=600,
                              headers={"Authorization": token},
                              data={"package_id": pkg, "name": "1 triệu dòng", "format": "CSV"},
                              files={"upload": ("million.csv", f, "text/csv")})
        r.raise_for_status()
        res = r.json()["result"]
        status: dict[str, Any] = {}
        while time.perf_counter() - t0 < 3600:
            status = api(url, token, "xloader_status", resource_id=res["id"])
            if status.get("status") in ("complete", "error"):
                break
            time.sleep(1)
        took, top = time.perf_counter() - t0, peak.stop()
        info = api(url, token, "datastore_info", id=res["id"])
        types = {f["id"]: f["type"] for f in info["fields"]}
        print(f"xloader {args.rows} rows: {status.get('status')} in {took:.1f} s; "
              f"worker RSS {base_rss:.0f} MB idle, peak {top:.0f} MB (job process included); "
              f"rows {info['meta'].get('count')}; types {types}")
        api(url, token, "resource_delete", id=res["id"])
    finally:
        stop(worker)
        stop(web)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["upload", "xloader"])
    ap.add_argument("--ini", default=str(ROOT / "config" / "test.ini"))
    ap.add_argument("--size-mb", type=int, default=2048)
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    (ROOT / "var").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-large-", dir=ROOT / "var") as tmp:
        print(f"load average before: {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs")
        (bench_upload if args.what == "upload" else bench_xloader)(args, Path(tmp))
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
