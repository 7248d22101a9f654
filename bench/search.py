#!/usr/bin/env python
"""Benchmark of CKAN's package_search over the PostgreSQL search transport.

    .venv/bin/python bench/search.py [--n 10000] [--runs 30] [--ini config/bench.ini]

What it does (it prints figures; it asserts nothing and is not a test):

1. Makes sure the database of ``config/bench.ini`` (``ckan_bench`` on the
   project's private PostgreSQL cluster, 127.0.0.1:25432) exists, with the
   ``unaccent`` extension, CKAN's tables (``ckan db init``) and the search
   table of ``binhphuoc_pgsearch`` (``ckan db upgrade -p binhphuoc_pgsearch``).
2. Loads CKAN in this process (``load_config`` + ``make_app``).
3. Seeds N datasets with Vietnamese metadata - 20 agencies, thematic groups,
   1-5 tags, 1-4 resources (CSV/JSON/XLSX/GeoJSON/PDF), licences, extras,
   about 10 % private - by bulk inserts into CKAN's tables (package_create
   manages ~50 datasets/s, far too slow for 100,000), then builds the index
   with CKAN's own ``ckan.lib.search.rebuild`` (what ``ckan search-index
   rebuild`` runs) and times it.  When the database already holds exactly N
   datasets, seeding is skipped (``--reseed`` forces it); an interrupted
   indexing resumes with the datasets still missing; when the index is
   complete the rebuild rate is measured on a sample (``--rebuild-sample``),
   or on everything with ``--rebuild``.
4. Measures ``package_search`` in-process, through ``get_action``: p50/p95
   over ``--runs`` runs after 3 warm-up runs, the query words varying from
   run to run.
5. Prints the machine (CPUs, RAM, PostgreSQL), the data shape, the table of
   latencies and the rebuild rate.  ``--explain`` adds, for each query, the
   SQL statements the transport ran with their times and the plan of the
   slowest one.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import resource as _resource
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
import uuid
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_INI = os.path.join(ROOT, "config", "bench.ini")
CKAN_CLI = os.path.join(ROOT, ".venv", "bin", "ckan")
WARMUP = 3
SEED = 20261122
# Bumped whenever the generated data changes: a rerun then seeds again.
DATA_VERSION = "2"
DATA_VERSION_KEY = "binhphuoc_bench.data_version"

# --- vocabulary -------------------------------------------------------------

# 20 agencies (organizations), with the sector each mostly publishes in.
AGENCIES = [
    ("Sở Y tế", "y-te"),
    ("Sở Giáo dục và Đào tạo", "giao-duc"),
    ("Sở Tài nguyên và Môi trường", "moi-truong"),
    ("Sở Giao thông Vận tải", "giao-thong"),
    ("Sở Kế hoạch và Đầu tư", "kinh-te"),
    ("Sở Tài chính", "tai-chinh"),
    ("Sở Nông nghiệp và Phát triển nông thôn", "nong-nghiep"),
    ("Sở Lao động - Thương binh và Xã hội", "xa-hoi"),
    ("Sở Văn hóa, Thể thao và Du lịch", "van-hoa"),
    ("Sở Thông tin và Truyền thông", "hanh-chinh"),
    ("Sở Xây dựng", "dat-dai"),
    ("Sở Công Thương", "kinh-te"),
    ("Cục Thống kê tỉnh Bình Phước", "dan-so"),
    ("Công an tỉnh Bình Phước", "hanh-chinh"),
    ("UBND thành phố Đồng Xoài", None),
    ("UBND thị xã Bình Long", None),
    ("UBND thị xã Phước Long", None),
    ("UBND thị xã Chơn Thành", None),
    ("UBND phường Tân Phú", None),
    ("UBND huyện Lộc Ninh", None),
]

# Sectors: the "linh_vuc" extra (faceted), subjects of titles, tags.
SECTORS = {
    "dan-so": ("Dân số", ["dân số", "hộ gia đình", "hộ nghèo", "dân tộc thiểu số",
                          "mật độ dân số", "tỷ lệ sinh", "người cao tuổi"],
               ["dân số", "thống kê", "hộ nghèo", "dân tộc thiểu số"]),
    "giao-duc": ("Giáo dục", ["trường học", "học sinh", "giáo viên", "trường mầm non",
                             "kết quả thi tốt nghiệp", "phổ cập giáo dục"],
                 ["giáo dục", "trường học", "học sinh", "giáo viên"]),
    "y-te": ("Y tế", ["bệnh viện", "trạm y tế", "tiêm chủng", "dịch bệnh",
                      "bảo hiểm y tế", "giường bệnh", "bác sĩ"],
             ["y tế", "bệnh viện", "dịch bệnh", "tiêm chủng"]),
    "dat-dai": ("Đất đai", ["giá đất", "quy hoạch sử dụng đất", "giấy chứng nhận quyền sử dụng đất",
                           "khu dân cư", "giấy phép xây dựng", "nhà ở xã hội"],
                ["đất đai", "quy hoạch", "xây dựng", "bản đồ"]),
    "moi-truong": ("Môi trường", ["chất lượng không khí", "chất lượng nước", "rác thải",
                                  "nước sạch", "quan trắc môi trường", "khí hậu", "rừng"],
                   ["môi trường", "nước sạch", "rác thải", "khí hậu"]),
    "giao-thong": ("Giao thông", ["tuyến xe buýt", "tai nạn giao thông", "đường giao thông",
                                  "bến xe", "cầu", "đăng kiểm phương tiện"],
                   ["giao thông", "xe buýt", "đường bộ", "bản đồ"]),
    "kinh-te": ("Kinh tế", ["doanh nghiệp", "dự án đầu tư", "khu công nghiệp",
                            "chỉ số giá tiêu dùng", "xuất khẩu", "chợ"],
                ["doanh nghiệp", "đầu tư", "khu công nghiệp", "giá cả"]),
    "tai-chinh": ("Tài chính", ["ngân sách", "thu ngân sách", "chi ngân sách",
                                "đầu tư công", "thuế", "nợ công"],
                  ["ngân sách", "thuế", "tài chính", "đầu tư công"]),
    "nong-nghiep": ("Nông nghiệp", ["diện tích cao su", "sản lượng điều", "hồ tiêu",
                                    "chăn nuôi", "thủy lợi", "lâm nghiệp", "hợp tác xã"],
                    ["nông nghiệp", "cao su", "điều", "hồ tiêu", "thủy lợi"]),
    "xa-hoi": ("Lao động - Xã hội", ["lao động", "việc làm", "bảo hiểm xã hội",
                                     "người có công", "trẻ em", "trợ cấp xã hội"],
               ["lao động", "việc làm", "bảo hiểm xã hội", "an sinh xã hội"]),
    "van-hoa": ("Văn hóa - Du lịch", ["di tích lịch sử", "lễ hội", "khách du lịch",
                                      "cơ sở lưu trú", "thư viện", "nhà văn hóa"],
                ["văn hóa", "du lịch", "di tích", "thể thao"]),
    "hanh-chinh": ("Hành chính công", ["thủ tục hành chính", "dịch vụ công trực tuyến",
                                       "đơn vị hành chính", "cán bộ công chức",
                                       "an ninh trật tự", "chuyển đổi số"],
                   ["hành chính", "dịch vụ công", "chuyển đổi số", "an ninh trật tự"]),
}

PLACES = [
    "Đồng Xoài", "Bình Long", "Phước Long", "Chơn Thành", "Lộc Ninh", "Bù Đăng",
    "Bù Đốp", "Bù Gia Mập", "Hớn Quản", "Đồng Phú", "Phú Riềng",
    "phường Tân Phú", "phường Tân Bình", "phường Tân Xuân", "phường Tân Đồng",
    "phường Tân Thiện", "xã Tiến Hưng", "xã Tân Thành", "tỉnh Bình Phước",
]
# Tags of places (a dataset about a place is often tagged with it).
PLACE_TAGS = ["Đồng Xoài", "Bình Long", "Phước Long", "Chơn Thành", "Lộc Ninh",
              "Bù Đăng", "Bù Đốp", "Bù Gia Mập", "Hớn Quản", "Đồng Phú", "Phú Riềng"]
GENERAL_TAGS = ["dữ liệu mở", "thống kê", "báo cáo", "bản đồ", "GIS", "danh mục",
                "niên giám", "kế hoạch", "2023", "2024", "2025"]

TITLE_PREFIXES = ["Dữ liệu", "Thống kê", "Danh sách", "Báo cáo", "Số liệu", "Bản đồ",
                  "Tổng hợp", "Kết quả khảo sát", "Kế hoạch", "Danh mục"]
# The first sentence of a description; then 2-4 of SENTENCES.  Varied, so
# that common words ("dữ liệu", "thông tin") are frequent but not everywhere.
OPENINGS = [
    "Bộ dữ liệu cung cấp thông tin về {subject} trên địa bàn {place}, tỉnh Bình Phước.",
    "Tập số liệu về {subject} của {place} giai đoạn {year0}–{year}.",
    "{prefix} {subject} tại {place}, tỉnh Bình Phước.",
    "Danh mục {subject} do {agency} quản lý.",
    "Tổng hợp tình hình {subject} ở {place} năm {year}.",
    "Kết quả theo dõi {subject} trên địa bàn {place}.",
]
SENTENCES = [
    "Dữ liệu do {agency} thu thập và cập nhật {freq_lower}.",
    "Số liệu được tổng hợp từ báo cáo của các phòng, ban chuyên môn và UBND cấp xã.",
    "Phạm vi thời gian: từ năm {year0} đến năm {year}.",
    "Dữ liệu phục vụ công tác quản lý nhà nước, nghiên cứu và phát triển kinh tế - xã hội.",
    "Các trường dữ liệu gồm mã đơn vị hành chính, tên đơn vị, chỉ tiêu và giá trị theo năm.",
    "Người dùng có thể tải về ở định dạng {formats} để phân tích.",
    "Thông tin về {subject2} được bổ sung theo kết quả điều tra năm {year}.",
    "Dữ liệu tuân thủ danh mục dữ liệu mở của tỉnh theo Nghị định 47/2020/NĐ-CP.",
    "Liên hệ {agency} để được giải đáp thắc mắc về nội dung dữ liệu.",
]
FREQUENCIES = ["Hằng năm", "Hằng quý", "Hằng tháng", "Sáu tháng một lần", "Không định kỳ"]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Võ", "Đặng", "Bùi", "Đỗ"]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Thanh", "Ngọc", "Đức"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hạnh", "Hùng", "Lan", "Linh", "Nam",
         "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vy"]

# Formats with their weight, mimetype and extension.
FORMATS = [
    ("CSV", 35, "text/csv", "csv"),
    ("XLSX", 25, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    ("JSON", 15, "application/json", "json"),
    ("PDF", 15, "application/pdf", "pdf"),
    ("GeoJSON", 10, "application/geo+json", "geojson"),
]
LICENSES = [("cc-by", 40), ("odc-by", 12), ("cc-by-sa", 10), ("cc-zero", 10),
            ("other-open", 10), ("odc-odbl", 6), ("notspecified", 6), ("other-pd", 6)]

# Free-text queries, with and without diacritics, as people type them.
QUERIES = [
    "du lieu dan so", "dân số Đồng Xoài", "giao duc", "truong hoc binh long",
    "y te", "benh vien", "dat dai", "quy hoach su dung dat", "moi truong",
    "chat luong nuoc", "giao thong", "tai nan giao thong", "ngân sách",
    "doanh nghiep", "ho ngheo", "lao dong viec lam", "cao su", "Phước Long",
    "bản đồ hành chính", "thong ke dan so 2021", "dich vu cong truc tuyen",
    "khach du lich", "tiem chung", "nuoc sach dong xoai", "gia dat chon thanh",
    "hoc sinh loc ninh", "san luong dieu", "thu tuc hanh chinh", "rac thai",
    "khu cong nghiep",
]

FACETS_6 = ["organization", "groups", "tags", "res_format", "license_id", "linh_vuc"]
FACETS_PAGE = ["organization", "groups", "tags", "res_format", "license_id"]

GROUPS = ["Kinh tế", "Xã hội", "Môi trường", "Hạ tầng đô thị", "Nông nghiệp nông thôn",
          "Y tế - Giáo dục", "Hành chính công", "Văn hóa - Du lịch"]
SECTOR_GROUPS = {
    "dan-so": ["Xã hội"], "giao-duc": ["Y tế - Giáo dục", "Xã hội"],
    "y-te": ["Y tế - Giáo dục"], "dat-dai": ["Hạ tầng đô thị", "Môi trường"],
    "moi-truong": ["Môi trường"], "giao-thong": ["Hạ tầng đô thị"],
    "kinh-te": ["Kinh tế"], "tai-chinh": ["Kinh tế", "Hành chính công"],
    "nong-nghiep": ["Nông nghiệp nông thôn", "Kinh tế"], "xa-hoi": ["Xã hội"],
    "van-hoa": ["Văn hóa - Du lịch"], "hanh-chinh": ["Hành chính công"],
}


def slug(text: str) -> str:
    """ASCII name from Vietnamese text ("Đồng Xoài" -> "dong-xoai")."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    out = []
    for c in text:
        out.append(c if c.isascii() and c.isalnum() else "-")
    return "-".join(p for p in "".join(out).split("-") if p)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- database set-up (before CKAN is loaded) ----------------------------------

def ensure_database(url_text: str) -> None:
    """Create the bench database (as superuser postgres) and its extension."""
    import psycopg2
    from sqlalchemy.engine.url import make_url

    url = make_url(url_text)
    host, port = url.host or "127.0.0.1", url.port or 5432
    try:
        admin = psycopg2.connect(host=host, port=port, user="postgres",
                                 dbname="postgres", connect_timeout=5)
    except psycopg2.OperationalError as e:
        sys.exit(
            f"Cannot reach PostgreSQL at {host}:{port} as 'postgres' ({e}).\n"
            "Start the project's private cluster first: `make services` "
            "(or `make run` / `make test`).")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,))
        if cur.fetchone() is None:
            log(f"creating database {url.database} (owner {url.username})")
            cur.execute(f'CREATE DATABASE "{url.database}" OWNER "{url.username}"')
    admin.close()
    conn = psycopg2.connect(host=host, port=port, user="postgres",
                            dbname=url.database, connect_timeout=5)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    conn.close()


def ensure_schema(ini: str, url_text: str) -> None:
    """``ckan db init`` and the search plugin's migration, when missing."""
    import sqlalchemy as sa

    engine = sa.create_engine(url_text, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        has_core = conn.execute(sa.text("SELECT to_regclass('public.package')")).scalar()
        has_search = conn.execute(
            sa.text("SELECT to_regclass('binhphuoc_search.doc')")).scalar()
    engine.dispose()
    env = dict(os.environ)
    for name in ("CKAN_INI", "CKAN_SQLALCHEMY_URL", "CKAN_SOLR_URL", "CKAN_SITE_ID"):
        env.pop(name, None)
    if not has_core:
        log("ckan db init")
        subprocess.run([CKAN_CLI, "-c", ini, "db", "init"], check=True, env=env,
                       stdout=subprocess.DEVNULL)
    # Always: the transport's later migrations apply to an existing index.
    log("ckan db upgrade -p binhphuoc_pgsearch" + ("" if has_search else " (new)"))
    subprocess.run([CKAN_CLI, "-c", ini, "db", "upgrade", "-p", "binhphuoc_pgsearch"],
                   check=True, env=env, stdout=subprocess.DEVNULL)


def database_ini(base: str, database: str, extra: dict[str, str] | None = None,
                 writer: str = "bench/search.py") -> str:
    """An ini that is ``base`` with another database (CKAN's ``use =``) and
    the ``extra`` settings of [app:main]."""
    import re

    if not re.match(r"^[a-z_][a-z0-9_]*$", database):
        sys.exit(f"--database: {database!r} is not a plain database name")
    url = ini_setting(base, "sqlalchemy.url").rsplit("/", 1)[0] + "/" + database
    settings = {"sqlalchemy.url": url, "solr_url": f"pgsearch://{database}", **(extra or {})}
    return write_ini(os.path.join(ROOT, "var", f"bench-{database}.ini"), base, settings,
                     f"{writer} --database {database}")


def write_ini(path: str, base: str, settings: dict[str, str], writer: str) -> str:
    """An ini at ``path`` that is ``base`` (CKAN's ``use =``) with ``settings``
    in [app:main] and base's logging sections (not read through ``use``)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(base) as f:
        logging_sections = f.read().split("[loggers]", 1)[1]
    lines = "".join(f"{k} = {v}\n" for k, v in settings.items())
    with open(path, "w") as f:
        f.write(f"# Written by {writer}\n[DEFAULT]\ndebug = false\n\n[app:main]\n"
                f"use = config:{base}\n{lines}\n[loggers]{logging_sections}")
    return path


def ini_setting(ini: str, key: str) -> str:
    """A setting of the ini, following ``use = config:`` like CKAN does."""
    from ckan.cli import CKANConfigLoader

    return CKANConfigLoader(ini).get_config()[key]


# --- CKAN ---------------------------------------------------------------------

class Ckan:
    def __init__(self, ini: str):
        # CKAN lets these override the ini file; the bench uses its own ini only.
        for name in ("CKAN_INI", "CKAN_SQLALCHEMY_URL", "CKAN_SOLR_URL", "CKAN_SITE_ID",
                     "CKAN_SITE_URL", "CKAN_STORAGE_PATH", "CKAN_REDIS_URL"):
            os.environ.pop(name, None)
        from ckan.cli import load_config
        from ckan.config.middleware import make_app

        self.conf = load_config(ini)
        self.app = make_app(self.conf)
        self.flask_app = self.app._wsgi_app

    @contextmanager
    def request(self) -> Iterator[None]:
        with self.flask_app.test_request_context():
            yield


# --- seeding ----------------------------------------------------------------

def weighted(rng: random.Random, items: list[tuple[Any, int]]) -> Any:
    return rng.choices([i[0] for i in items], weights=[i[1] for i in items])[0]


def person(rng: random.Random) -> tuple[str, str]:
    family, middle, given = rng.choice(FAMILY), rng.choice(MIDDLE), rng.choice(GIVEN)
    name = f"{family} {middle} {given}"
    email = f"{slug(given)}.{slug(family)}{rng.randint(1, 99)}@binhphuoc.gov.vn"
    return name, email


def make_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def seed(n: int, site_user_id: str) -> dict[str, Any]:
    """Bulk-insert n datasets, their agencies, groups, tags and resources."""
    import sqlalchemy as sa
    from ckan import model

    rng = random.Random(SEED)
    engine = model.meta.engine
    t = model.meta.metadata.tables
    now = datetime.datetime(2026, 11, 1, 8, 0, 0)

    with engine.begin() as conn:
        log("clearing the bench tables and the search index")
        conn.execute(sa.text(
            'TRUNCATE package, resource, package_tag, tag, package_extra, member, '
            '"group", group_extra RESTART IDENTITY CASCADE'))
        conn.execute(sa.text("TRUNCATE binhphuoc_search.doc, binhphuoc_search.stored"))
        conn.execute(t["system_info"].delete().where(
            t["system_info"].c.key == DATA_VERSION_KEY))

    orgs = []
    for title, sector in AGENCIES:
        orgs.append({"id": make_uuid(rng), "name": slug(title), "title": title,
                     "sector": sector})
    groups = []
    for title in GROUPS:
        groups.append({"id": make_uuid(rng), "name": slug(title), "title": title})
    group_by_title = {g["title"]: g for g in groups}

    tag_names = set(PLACE_TAGS) | set(GENERAL_TAGS)
    for _label, _subjects, tags in SECTORS.values():
        tag_names.update(tags)
    tag_ids = {name: make_uuid(rng) for name in sorted(tag_names)}

    created = datetime.datetime(2024, 1, 1)
    group_rows = [
        {"id": o["id"], "name": o["name"], "title": o["title"], "type": "organization",
         "description": f"{o['title']} - đơn vị cung cấp dữ liệu mở của tỉnh Bình Phước.",
         "image_url": "", "created": created, "is_organization": True,
         "approval_status": "approved", "state": "active"}
        for o in orgs
    ] + [
        {"id": g["id"], "name": g["name"], "title": g["title"], "type": "group",
         "description": f"Nhóm dữ liệu {g['title'].lower()}.", "image_url": "",
         "created": created, "is_organization": False, "approval_status": "approved",
         "state": "active"}
        for g in groups
    ]
    member_rows = [
        {"id": make_uuid(rng), "table_name": "user", "table_id": site_user_id,
         "capacity": "admin", "group_id": o["id"], "state": "active"}
        for o in orgs
    ]
    with engine.begin() as conn:
        conn.execute(t["group"].insert(), group_rows)
        conn.execute(t["tag"].insert(), [
            {"id": i, "name": name, "vocabulary_id": None} for name, i in tag_ids.items()])
        conn.execute(t["member"].insert(), member_rows)

    sector_keys = list(SECTORS)
    fmt_weights = [(f, f[1]) for f in FORMATS]
    span = (now - datetime.datetime(2019, 1, 1)).total_seconds()
    used_names: set[str] = set()
    batch = 2000
    totals = {"package": 0, "resource": 0, "package_tag": 0, "member": 0,
              "package_extra": 0, "private": 0}
    started = time.perf_counter()
    for first in range(0, n, batch):
        pkgs, ress, ptags, members, extras = [], [], [], [], []
        for i in range(first, min(n, first + batch)):
            org = rng.choice(orgs)
            if org["sector"] and rng.random() < 0.85:
                sector = org["sector"]
            else:
                sector = rng.choice(sector_keys)
            label, subjects, sector_tags = SECTORS[sector]
            subject = rng.choice(subjects)
            subject2 = rng.choice(subjects)
            place = rng.choice(PLACES)
            if org["title"].startswith("UBND") and rng.random() < 0.8:
                place = org["title"].split(" ", 1)[1]
            year = rng.randint(2015, 2025)
            prefix = rng.choice(TITLE_PREFIXES)
            title = f"{prefix} {subject} {place} năm {year}"
            base = slug(title)[:80]
            name = base
            while name in used_names:
                name = f"{base}-{rng.randint(2, 99999)}"
            used_names.add(name)
            n_res = rng.choices([1, 2, 3, 4], weights=[35, 35, 20, 10])[0]
            res_formats = [weighted(rng, fmt_weights) for _ in range(n_res)]
            freq = rng.choice(FREQUENCIES)
            fmt_names = ", ".join(sorted({f[0] for f in res_formats}))
            words = dict(subject=subject, subject2=subject2, place=place, prefix=prefix,
                         agency=org["title"], freq_lower=freq.lower(), year=year,
                         year0=year - rng.randint(1, 5), formats=fmt_names)
            notes = " ".join(
                s.format(**words)
                for s in [rng.choice(OPENINGS)] + rng.sample(SENTENCES, rng.randint(2, 4)))
            c_at = datetime.datetime(2019, 1, 1) + datetime.timedelta(
                seconds=rng.random() * span)
            m_at = c_at + datetime.timedelta(
                seconds=rng.random() * (now - c_at).total_seconds())
            pkg_id = make_uuid(rng)
            private = rng.random() < 0.10
            totals["private"] += private
            author, author_email = person(rng)
            maintainer, maintainer_email = person(rng)
            pkgs.append({
                "id": pkg_id, "name": name, "title": title, "version": "1.0",
                "url": f"https://binhphuoc.gov.vn/du-lieu/{name}",
                "author": author, "author_email": author_email,
                "maintainer": maintainer, "maintainer_email": maintainer_email,
                "notes": notes, "license_id": weighted(rng, LICENSES),
                "type": "dataset", "owner_org": org["id"],
                "creator_user_id": site_user_id,
                "metadata_created": c_at, "metadata_modified": m_at,
                "private": private, "state": "active", "plugin_data": None,
            })
            members.append({"id": make_uuid(rng), "table_name": "package",
                            "table_id": pkg_id, "capacity": "organization",
                            "group_id": org["id"], "state": "active"})
            for gtitle in rng.sample(SECTOR_GROUPS[sector],
                                     rng.choice([0, 1, 1, len(SECTOR_GROUPS[sector])])):
                members.append({"id": make_uuid(rng), "table_name": "package",
                                "table_id": pkg_id, "capacity": "public",
                                "group_id": group_by_title[gtitle]["id"],
                                "state": "active"})
            n_tags = rng.choices([1, 2, 3, 4, 5], weights=[15, 25, 30, 20, 10])[0]
            pool = sector_tags + ([place] if place in PLACE_TAGS else []) + GENERAL_TAGS
            tags = set()
            tags.add(rng.choice(sector_tags))
            while len(tags) < n_tags:
                tags.add(rng.choice(pool))
            for tag in sorted(tags):
                ptags.append({"id": make_uuid(rng), "package_id": pkg_id,
                              "tag_id": tag_ids[tag], "state": "active"})
            for key, value in (("linh_vuc", label), ("tan_suat_cap_nhat", freq),
                               ("pham_vi", place)):
                extras.append({"id": make_uuid(rng), "package_id": pkg_id,
                               "key": key, "value": value, "state": "active"})
            for pos, (fmt, _w, mimetype, ext) in enumerate(res_formats):
                r_at = c_at + datetime.timedelta(seconds=pos * 60)
                ress.append({
                    "id": make_uuid(rng), "package_id": pkg_id,
                    "url": f"https://dulieu.binhphuoc.gov.vn/files/{name}/{pos + 1}.{ext}",
                    "format": fmt,
                    "description": f"{subject.capitalize()} {place} năm {year}, định dạng {fmt}.",
                    "hash": "", "position": pos,
                    "name": f"{prefix} {subject} năm {year - pos} ({fmt})",
                    "resource_type": None, "mimetype": mimetype, "mimetype_inner": None,
                    "size": rng.randint(2_000, 5_000_000), "created": r_at,
                    "last_modified": m_at, "metadata_modified": m_at,
                    "cache_url": None, "cache_last_updated": None, "url_type": None,
                    "extras": None, "state": "active",
                })
        with engine.begin() as conn:
            conn.execute(t["package"].insert(), pkgs)
            conn.execute(t["member"].insert(), members)
            conn.execute(t["package_tag"].insert(), ptags)
            conn.execute(t["package_extra"].insert(), extras)
            conn.execute(t["resource"].insert(), ress)
        totals["package"] += len(pkgs)
        totals["resource"] += len(ress)
        totals["package_tag"] += len(ptags)
        totals["member"] += len(members)
        totals["package_extra"] += len(extras)
        log(f"  seeded {totals['package']:>7,}/{n:,} datasets "
            f"({time.perf_counter() - started:.0f} s)")
    with engine.begin() as conn:
        conn.execute(sa.text(
            "ANALYZE package; ANALYZE resource; ANALYZE package_tag; ANALYZE member; "
            "ANALYZE package_extra; ANALYZE tag; ANALYZE \"group\""))
    with engine.begin() as conn:
        conn.execute(t["system_info"].delete().where(
            t["system_info"].c.key == DATA_VERSION_KEY))
        conn.execute(t["system_info"].insert(), [
            {"key": DATA_VERSION_KEY, "value": f"{DATA_VERSION}:{n}", "state": "active"}])
    totals["seconds"] = time.perf_counter() - started
    return totals


def ensure_bench_user() -> str:
    from ckan import model

    user = model.User.get("bench_admin")
    if user is None:
        user = model.User(name="bench_admin", email="bench_admin@binhphuoc.gov.vn",
                          fullname="Bench admin", password=uuid.uuid4().hex,
                          sysadmin=True)
        model.Session.add(user)
        model.Session.commit()
    return user.id


# --- indexing -------------------------------------------------------------------

def rebuild_ids(ids: list[str], chunk: int = 500, progress: bool = True,
                label: str = "") -> None:
    """CKAN's own ``ckan.lib.search.rebuild`` over ids, in chunks (progress)."""
    from ckan import model
    from ckan.lib import search

    started = time.perf_counter()
    for first in range(0, len(ids), chunk):
        search.rebuild(package_ids=ids[first:first + chunk], defer_commit=True,
                       quiet=True)
        model.Session.remove()  # bounded memory: drop the loaded objects
        done = min(len(ids), first + chunk)
        if progress:
            elapsed = time.perf_counter() - started
            rate = done / elapsed if elapsed else 0
            eta = (len(ids) - done) / rate if rate else 0
            log(f"  {label}indexed {done:>7,}/{len(ids):,}  {rate:6.1f} datasets/s  "
                f"ETA {eta:5.0f} s")
    search.commit()


def all_package_ids() -> list[str]:
    from ckan import model

    return [r[0] for r in model.Session.query(model.Package.id)
            .filter(model.Package.state == "active").order_by(model.Package.id)]


def unindexed_package_ids(site_id: str) -> list[str]:
    """Active datasets without a document in the index (a rebuild that was
    interrupted resumes from here)."""
    import sqlalchemy as sa
    from ckan import model

    with model.meta.engine.connect() as conn:
        return list(conn.execute(sa.text(
            "SELECT p.id FROM package p WHERE p.state = 'active' AND NOT EXISTS ("
            " SELECT 1 FROM binhphuoc_search.doc d"
            " WHERE d.id = p.id AND d.site_id = :site) ORDER BY p.id"),
            {"site": site_id}).scalars())


def rebuild_all(ini: str, ids: list[str], workers: int) -> float:
    """Index the datasets ids; returns the wall time in seconds."""
    started = time.perf_counter()
    if workers <= 1:
        rebuild_ids(ids)
        return time.perf_counter() - started
    files, procs = [], []
    for w in range(workers):
        part = ids[w::workers]
        f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump(part, f)
        f.close()
        files.append(f.name)
        procs.append(subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--ini", ini,
             "--index-worker", f.name, "--worker-label", f"[{w + 1}/{workers}] "]))
    # Worker start-up (loading CKAN) is counted: it is part of the rebuild.
    codes = [p.wait() for p in procs]
    for name in files:
        os.unlink(name)
    if any(codes):
        sys.exit(f"an indexing worker failed: exit codes {codes}")
    return time.perf_counter() - started


def index_worker(ini: str, ids_file: str, label: str) -> None:
    ckan = Ckan(ini)
    with open(ids_file) as f:
        ids = json.load(f)
    with ckan.request():
        rebuild_ids(ids, label=label)


def measure_index_write(sample: list[str]) -> dict[str, list[float]]:
    """Per dataset: package_show vs CKAN's indexing + the transport's write."""
    from ckan import logic, model
    from ckan.lib import search

    index = search.index_for(model.Package)
    show_ms, index_ms = [], []
    for pkg_id in sample:
        context = {"ignore_auth": True, "validate": False, "use_cache": False}
        t0 = time.perf_counter()
        pkg = logic.get_action("package_show")(context, {"id": pkg_id})
        t1 = time.perf_counter()
        index.update_dict(pkg)  # what package_update triggers (commit included)
        t2 = time.perf_counter()
        show_ms.append((t1 - t0) * 1000)
        index_ms.append((t2 - t1) * 1000)
        model.Session.remove()
    return {"package_show": show_ms, "index": index_ms}


# --- measuring ------------------------------------------------------------------

def pct(values: list[float], p: float) -> float:
    """Percentile with linear interpolation (numpy's default)."""
    s = sorted(values)
    if len(s) == 1:
        return s[0]
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


class SqlRecorder:
    """Records the statements one call sends, with their times."""

    def __init__(self, engine):
        self.engine = engine
        self.items: list[tuple[float, str, Any]] = []
        self.active = False

    def __enter__(self):
        from sqlalchemy import event

        self.items = []
        self.active = True
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)
        self.active = False

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_t0", []).append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        t0 = conn.info["bench_t0"].pop()
        try:
            literal = cursor.mogrify(statement, parameters).decode()
        except Exception:  # noqa: BLE001 - only for display
            literal = statement
        self.items.append(((time.perf_counter() - t0) * 1000, statement, literal))


def run_query(ckan: Ckan, runs: int, make: Callable[[int], tuple[dict, dict]]):
    from ckan import logic, model

    action = logic.get_action("package_search")
    times, counts, slowest = [], [], (0.0, "", 0)
    for i in range(WARMUP + runs):
        context, data_dict = make(i)
        with ckan.request():
            t0 = time.perf_counter()
            result = action(context, data_dict)
            elapsed = (time.perf_counter() - t0) * 1000
        model.Session.remove()
        if i >= WARMUP:
            times.append(elapsed)
            counts.append(result["count"])
            if elapsed > slowest[0]:
                slowest = (elapsed, str(data_dict.get("q")), result["count"])
    return times, counts, slowest


def plan_filters(ckan: Ckan, queries: list[str]) -> list[dict[str, Optional[str]]]:
    """For each query, 3 filters a user would click: drilling down through the
    facets (an agency among the top 3, then a format, then a tag), so that the
    filtered query still finds datasets."""
    from ckan import logic, model

    rng = random.Random(SEED + 1)
    plans = []
    for q in queries:
        chosen: dict[str, Optional[str]] = {}
        for field in ("organization", "res_format", "tags"):
            with ckan.request():
                result = logic.get_action("package_search")(
                    {"ignore_auth": True},
                    {"q": q, "fq": fq_of(chosen), "rows": 0, "facet.field": [field],
                     "facet.limit": 3})
            model.Session.remove()
            items = result["search_facets"].get(field, {}).get("items", [])
            items = sorted(items, key=lambda x: -x["count"])[:3]
            chosen[field] = rng.choice(items)["name"] if items else None
        plans.append(chosen)
    return plans


def fq_of(filters: dict[str, Optional[str]]) -> str:
    """``field:"value"`` clauses separated by spaces, as CKAN's /dataset page
    sends them (CKAN asks for q.op=AND)."""
    parts = []
    for field, value in filters.items():
        if value is not None:
            parts.append(f'{field}:"{value}"')
    return " ".join(parts)


def machine_info(engine) -> dict[str, str]:
    import sqlalchemy as sa

    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                    break
    except OSError:
        pass
    with engine.connect() as conn:
        pg = conn.execute(sa.text("SHOW server_version")).scalar()
        settings = {
            name: conn.execute(sa.text(f"SHOW {name}")).scalar()
            for name in ("shared_buffers", "work_mem", "effective_cache_size", "jit")
        }
    import ckan

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    return {
        "CPUs (nproc)": str(usable),
        "CPU model": cpu,
        "RAM": mem,
        "PostgreSQL": f"{pg} (" + ", ".join(f"{k}={v}" for k, v in settings.items()) + ")",
        "Python": platform.python_version(),
        "CKAN": ckan.__version__,
        "OS": platform.platform(),
    }


def data_shape(engine, site_id: str, pg_index: bool = True) -> dict[str, Any]:
    import sqlalchemy as sa

    q = {
        "datasets": "SELECT count(*) FROM package WHERE state = 'active'",
        "private": "SELECT count(*) FROM package WHERE private AND state = 'active'",
        "resources": "SELECT count(*) FROM resource WHERE state = 'active'",
        "organizations": "SELECT count(*) FROM \"group\" WHERE is_organization",
        "groups": "SELECT count(*) FROM \"group\" WHERE NOT is_organization",
        "distinct tags": "SELECT count(*) FROM tag",
        "dataset-tag links": "SELECT count(*) FROM package_tag",
        "indexed documents": "SELECT count(*) FROM binhphuoc_search.doc "
                             "WHERE site_id = :site",
        "query table doc": "SELECT pg_size_pretty(pg_relation_size('binhphuoc_search.doc'))"
                           " || ' + indexes ' || pg_size_pretty(pg_indexes_size("
                           "'binhphuoc_search.doc'))",
        "stored documents table": "SELECT pg_size_pretty(pg_total_relation_size("
                                  "'binhphuoc_search.stored'))",
        "avg query row": "SELECT pg_size_pretty(avg(pg_column_size(d.*))::bigint) "
                         "FROM binhphuoc_search.doc d",
        "avg stored doc (jsonb)": "SELECT pg_size_pretty(avg(pg_column_size(doc))::bigint) "
                                  "FROM binhphuoc_search.stored",
        "avg keys per doc": "SELECT round(avg(cardinality(keys)), 1) "
                            "FROM binhphuoc_search.doc",
    }
    if not pg_index:  # Solr: the index is not in the database
        q = {k: v for k, v in q.items() if "binhphuoc_search" not in v}
    out = {}
    with engine.connect() as conn:
        for label, sql in q.items():
            out[label] = conn.execute(sa.text(sql), {"site": site_id}).scalar()
    return out


def explain_call(ckan: Ckan, context: dict, data_dict: dict, analyze: bool) -> None:
    """Print each statement one call runs (ms) and the plan of the slowest."""
    import sqlalchemy as sa
    from ckan import logic, model

    engine = model.meta.engine
    with SqlRecorder(engine) as rec:
        with ckan.request():
            logic.get_action("package_search")(context, data_dict)
    model.Session.remove()
    search_stmts = [it for it in rec.items if "binhphuoc_search.doc" in it[1]]
    for ms, statement, _literal in search_stmts:
        head = " ".join(statement.split())[:110]
        print(f"      {ms:8.1f} ms  {head}…")
    if analyze and search_stmts:
        ms, _statement, literal = max(search_stmts, key=lambda it: it[0])
        with engine.connect() as conn:
            conn.execute(sa.text("SET jit = off"))
            plan = conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + literal.replace("%", "%%")
            ).scalars().all()
        print("      plan of the slowest statement:")
        for line in plan:
            print("        " + line)


def after_write(engine, make: Callable[[int], tuple[dict, dict]],
                solr: "BenchSolr | None" = None, ckan: "Ckan | None" = None):
    """The query ``make`` builds, asked right after an index write: what any
    write does to the counts cache (moving the generation) is done first,
    outside the measured time. On Solr: a real write of one dataset (with
    its commit, which empties Solr's caches)."""
    import sqlalchemy as sa

    ids: list[str] = []

    def made(i: int) -> tuple[dict, dict]:
        if solr is None:
            with engine.begin() as conn:
                conn.execute(sa.text("SELECT nextval('binhphuoc_search.generation')"))
            return make(i)
        from ckan import model
        from ckan.lib import search

        if not ids:
            ids.extend(random.Random(SEED + 5).sample(all_package_ids(), 50))
        assert ckan is not None
        with ckan.request():
            search.rebuild(package_id=ids[i % len(ids)])
        model.Session.remove()
        return make(i)

    return made


class BenchSolr:
    """A Solr node of the bench (bin/solr: config/solr, the bundle's
    configset) on a loopback port, its index under var/bench-solr-<db>
    (kept: a rerun on the same data does not index again), stopped by its
    PID at the end when this run started it."""

    def __init__(self, port: int, database: str):
        self.port = port
        self.database = database
        self.home = os.path.join(ROOT, "var", f"bench-solr-{database}")
        self.url = f"http://127.0.0.1:{port}/solr/ckan"
        self.proc: subprocess.Popen | None = None

    def answers(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(self.url + "/select?q=*:*&rows=0", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def start(self) -> None:
        if self.answers():
            log(f"Solr already answers on {self.url}: using it")
            return
        subprocess.run([os.path.join(ROOT, "bin", "setup-solr")], check=True)
        os.makedirs(self.home, exist_ok=True)
        env = dict(os.environ, SOLR_HEAP=os.environ.get("SOLR_HEAP", "1g"))
        log(f"starting Solr on {self.url} (index in {self.home})")
        with open(os.path.join(self.home, "solr.log"), "ab") as out:
            self.proc = subprocess.Popen(
                [os.path.join(ROOT, "bin", "solr"), str(self.port), self.home],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
                start_new_session=True)
        deadline = time.monotonic() + 180
        while not self.answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"Solr did not start on {self.url}: see {self.home}/solr.log")
            time.sleep(0.5)

    def stop(self) -> None:
        import signal

        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def ini(self, base: str) -> str:
        """``base`` without the PostgreSQL plugin, its search on this Solr."""
        plugins = " ".join(p for p in ini_setting(base, "ckan.plugins").split()
                           if p != "binhphuoc_pgsearch")
        return write_ini(os.path.join(ROOT, "var", f"bench-solr-{self.database}.ini"), base,
                         {"ckan.plugins": plugins, "solr_url": self.url},
                         "bench/search.py --backend solr")

    @staticmethod
    def count(site_id: str) -> int:
        from ckan.lib import search

        return search.make_connection().search(
            q="*:*", fq=f'+site_id:"{site_id}"', rows=0).hits


def compare_backends(args: argparse.Namespace) -> None:
    """--backend both: the same bench on the PostgreSQL plugin, then on Solr
    (each in its own process, on the same seeded data), then the p50/p95 of
    each query side by side and the ratio pg/solr of the p95."""
    figures = {}
    for backend in ("pg", "solr"):
        out = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        out.close()
        cmd = [sys.executable, os.path.abspath(__file__), "--backend", backend,
               "--json", out.name, "--n", str(args.n), "--runs", str(args.runs),
               "--ini", args.ini, "--solr-port", str(args.solr_port),
               "--rebuild-sample", str(args.rebuild_sample)]
        if args.database:
            cmd += ["--database", args.database]
        print(f"\n===== backend {backend} =====", flush=True)
        subprocess.run(cmd, check=True)
        with open(out.name) as f:
            figures[backend] = {row[0]: row for row in json.load(f)}
        os.unlink(out.name)
    print(f"\n===== side by side: {args.n:,} datasets, {args.runs} runs per query =====")
    labels = list(figures["pg"])
    width = max(len(label) for label in labels)
    print(f"  {'query':{width}}  {'pg p50':>8} {'pg p95':>8}  {'solr p50':>8} "
          f"{'solr p95':>8}  {'pg/solr p95':>11}")
    for label in labels:
        pg_row, solr_row = figures["pg"][label], figures["solr"].get(label)
        if solr_row is None or pg_row[1] is None or solr_row[1] is None:
            print(f"  {label:{width}}  (not measured on both)")
            continue
        ratio = pg_row[2] / solr_row[2] if solr_row[2] else float("nan")
        print(f"  {label:{width}}  {pg_row[1]:8.1f} {pg_row[2]:8.1f}  {solr_row[1]:8.1f} "
              f"{solr_row[2]:8.1f}  {ratio:11.2f}")
    print(f"Rerun: .venv/bin/python bench/search.py --backend both --n {args.n} "
          f"--runs {args.runs}")


HTTP_PORT = 55091


def _proc_status_mb(pid: int, key: str) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure_http(ini: str, runs: int, words: list[str]) -> dict[str, Any]:
    """/dataset over real HTTP from ``ckan run`` (one process, as the
    target asks end to end), and the server's memory after serving it."""
    import requests

    out: dict[str, Any] = {"times": {}}
    env = dict(os.environ)
    for name in ("CKAN_INI", "CKAN_SQLALCHEMY_URL", "CKAN_SOLR_URL", "CKAN_SITE_ID"):
        env.pop(name, None)
    log_file = open(os.path.join(ROOT, "var", "bench-search-http.log"), "w")
    server = subprocess.Popen(
        [CKAN_CLI, "-c", ini, "run", "-H", "127.0.0.1", "-p", str(HTTP_PORT),
         "--disable-reloader"], env=env, stdout=log_file, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{HTTP_PORT}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                if requests.get(base + "/api/3/action/status_show", timeout=5).ok:
                    break
            except requests.RequestException:
                pass
            if server.poll() is not None or time.time() > deadline:
                out["times"]["8 GET /dataset/ over HTTP"] = (
                    "failed: the server did not start (var/bench-search-http.log)")
                return out
            time.sleep(0.5)
        pages = [
            ("8 GET /dataset/ over HTTP, anonymous", lambda i: "/dataset/"),
            ("8b GET /dataset/?q=<free text> over HTTP",
             lambda i: "/dataset/?q=" + requests.utils.quote(words[i])),
        ]
        with requests.Session() as session:
            for label, path in pages:
                times = []
                for i in range(WARMUP + runs):
                    t0 = time.perf_counter()
                    resp = session.get(base + path(i), timeout=60)
                    elapsed = (time.perf_counter() - t0) * 1000
                    if resp.status_code != 200:
                        times = f"failed: HTTP {resp.status_code}"
                        break
                    if i >= WARMUP:
                        times.append(elapsed)
                out["times"][label] = times
        out["rss"] = _proc_status_mb(server.pid, "VmRSS")
        out["hwm"] = _proc_status_mb(server.pid, "VmHWM")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log_file.close()
    return out


# --- main -------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="datasets (default 10000)")
    parser.add_argument("--runs", type=int, default=30, help="measured runs per query")
    parser.add_argument("--ini", default=DEFAULT_INI, help="CKAN config (config/bench.ini)")
    parser.add_argument("--reseed", action="store_true",
                        help="seed again even if the database holds N datasets")
    parser.add_argument("--rebuild", action="store_true",
                        help="rebuild the whole index even when it is complete")
    parser.add_argument("--rebuild-sample", type=int, default=1000,
                        help="when not rebuilding everything, re-index this many "
                             "datasets to measure the rate (0: skip)")
    parser.add_argument("--workers", type=int, default=1,
                        help="indexing processes for a full rebuild (default 1, "
                             "which is what `ckan search-index rebuild` does)")
    parser.add_argument("--explain", action="store_true",
                        help="also print each query's SQL statements with times, and "
                             "EXPLAIN ANALYZE of the slowest")
    parser.add_argument("--database",
                        help="another database than the ini's (e.g. ckan_bench_10k, "
                             "to keep a 10,000 and a 100,000 data set side by side); "
                             "an ini for it is written to var/")
    parser.add_argument("--backend", choices=("pg", "solr", "both"), default="pg",
                        help="search served by the PostgreSQL plugin (default), by a real "
                             "Solr (config/solr, started on --solr-port with its index "
                             "under var/, kept between runs), or both one after the other "
                             "on the same data, with the ratio pg/solr per query")
    parser.add_argument("--solr-port", type=int, default=28984,
                        help="loopback port of the bench's Solr (default 28984)")
    parser.add_argument("--json", help=argparse.SUPPRESS)
    parser.add_argument("--index-worker", help=argparse.SUPPRESS)
    parser.add_argument("--worker-label", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    ini = os.path.abspath(args.ini)
    if args.database:
        ini = database_ini(ini, args.database)

    if args.index_worker:
        index_worker(ini, args.index_worker, args.worker_label)
        return
    if args.backend == "both":
        compare_backends(args)
        return

    url = ini_setting(ini, "sqlalchemy.url")
    ensure_database(url)
    ensure_schema(ini, url)
    solr = None
    if args.backend == "solr":
        solr = BenchSolr(args.solr_port, args.database or "ckan_bench")
        solr.start()
        ini = solr.ini(ini)
    try:
        run_bench(args, ini, solr)
    finally:
        if solr is not None:
            solr.stop()


def run_bench(args: argparse.Namespace, ini: str, solr: "BenchSolr | None") -> None:
    ckan = Ckan(ini)

    import sqlalchemy as sa
    from ckan import model
    from ckan.common import config

    site_id = config["ckan.site_id"]
    engine = model.meta.engine
    with ckan.request():
        user_id = ensure_bench_user()

    with engine.connect() as conn:
        have = conn.execute(sa.text("SELECT count(*) FROM package")).scalar()
        version = conn.execute(sa.text(
            "SELECT value FROM system_info WHERE key = :k"), {"k": DATA_VERSION_KEY}
        ).scalar()
        indexed = conn.execute(sa.text(
            "SELECT count(*) FROM binhphuoc_search.doc WHERE site_id = :s"), {"s": site_id}
        ).scalar() if solr is None else None
    if solr is not None:
        with ckan.request():
            indexed = solr.count(site_id)

    seeded = None
    rebuild_rate = None
    rebuild_note = ""
    if version != f"{DATA_VERSION}:{args.n}" and have == args.n and not args.reseed:
        print("The bench database holds data of another version of this script: "
              "seeding again.")
    if have == args.n and version == f"{DATA_VERSION}:{args.n}" and not args.reseed:
        print(f"The bench database already holds {have:,} datasets: not seeding again "
              "(--reseed forces it).")
    else:
        print(f"Seeding {args.n:,} datasets (the database held {have:,}) …")
        with ckan.request():
            seeded = seed(args.n, user_id)
        indexed = 0
        print(f"  seeded in {seeded['seconds']:.1f} s by bulk inserts")

    if args.rebuild or indexed != args.n:
        with ckan.request():
            if args.rebuild or solr is not None:
                from ckan.lib import search
                search.clear_all()
                ids = all_package_ids()
            else:
                ids = unindexed_package_ids(site_id)
        what = "all" if len(ids) == args.n else "the missing"
        print(f"Indexing {what} {len(ids):,} datasets with ckan.lib.search.rebuild, "
              f"{args.workers} process(es) …")
        with ckan.request():
            seconds = rebuild_all(ini, ids, args.workers)
        # What autovacuum would do soon after: statistics for the planner,
        # and the dead rows a clear leaves reclaimed.
        if solr is None:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ANALYZE binhphuoc_search.doc"))
        rebuild_rate = len(ids) / seconds
        rebuild_note = (f"rebuild of {len(ids):,} datasets in {seconds:.1f} s, "
                        f"{args.workers} process(es)")
    elif args.rebuild_sample > 0:
        sample = random.Random(SEED + 2).sample(all_package_ids(),
                                                min(args.rebuild_sample, args.n))
        print(f"Index complete; re-indexing a sample of {len(sample):,} datasets "
              "to measure the rebuild rate (--rebuild for all) …")
        with ckan.request():
            t0 = time.perf_counter()
            rebuild_ids(sample, progress=False)
            seconds = time.perf_counter() - t0
        rebuild_rate = len(sample) / seconds
        rebuild_note = (f"re-index of a sample of {len(sample):,} datasets in "
                        f"{seconds:.1f} s, 1 process")

    # Per-dataset write cost (what a package_update adds for indexing).
    write_sample = random.Random(SEED + 3).sample(all_package_ids(), min(50, args.n))
    with ckan.request():
        write = measure_index_write(write_sample)

    # --- the queries ---
    rng = random.Random(SEED + 4)
    shuffled = rng.sample(QUERIES, len(QUERIES))
    words = [shuffled[i % len(shuffled)] for i in range(WARMUP + args.runs)]
    distinct = sorted(set(words))
    filters = dict(zip(distinct, plan_filters(ckan, distinct)))

    def ctx() -> dict:
        return {"ignore_auth": True}

    def anon() -> dict:
        return {"user": "", "ignore_auth": False}

    cases: list[tuple[str, Callable[[int], tuple[dict, dict]]]] = [
        ("1 free text, rows=20",
         lambda i: (ctx(), {"q": words[i], "rows": 20})),
        ("2 free text + 3 fq + 6 facets, rows=20",
         lambda i: (ctx(), {"q": words[i], "fq": fq_of(filters[words[i]]), "rows": 20,
                            "facet.field": FACETS_6})),
        ("3 q=*:* rows=0, 6 facets",
         lambda i: (ctx(), {"q": "*:*", "rows": 0, "facet.field": FACETS_6})),
        ("4 sort metadata_modified desc, rows=20",
         lambda i: (ctx(), {"q": "*:*", "sort": "metadata_modified desc", "rows": 20,
                            "start": (i % 5) * 20})),
        ("4b free text, sort metadata_modified desc",
         lambda i: (ctx(), {"q": words[i], "sort": "metadata_modified desc",
                            "rows": 20})),
        ("5 anonymous free text (labels), rows=20",
         lambda i: (anon(), {"q": words[i], "rows": 20, "include_private": True})),
        ("6 anonymous /dataset search, 5 facets",
         lambda i: (anon(), {"q": "", "rows": 20, "facet.field": FACETS_PAGE,
                             "include_private": True, "facet.limit": 50})),
        # The same as 3 and 6 right after an index write: the counts cache
        # (docs/search.md) is invalid, everything is computed.
        ("3c as 3, after a write (cache invalid)",
         after_write(engine, lambda i: (ctx(), {"q": "*:*", "rows": 0,
                                                "facet.field": FACETS_6}), solr, ckan)),
        ("6c as 6, after a write (cache invalid)",
         after_write(engine, solr=solr, ckan=ckan, make=lambda i: (anon(), {
             "q": "", "rows": 20, "facet.field": FACETS_PAGE,
             "include_private": True, "facet.limit": 50}))),
    ]

    load_before = os.getloadavg()
    results = []
    slowest_runs: list[tuple[str, tuple[float, str, int]]] = []
    for label, make in cases:
        try:
            times, counts, slow = run_query(ckan, args.runs, make)
        except Exception as e:  # noqa: BLE001 - a figure, not a test
            results.append((label, None, None, f"failed: {e.__class__.__name__}: {e}"))
            continue
        slowest_runs.append((label, slow))
        counts_text = (f"{min(counts):,}" if min(counts) == max(counts)
                       else f"{min(counts):,}–{max(counts):,} "
                            f"(median {int(statistics.median(counts)):,})")
        results.append((label, pct(times, 50), pct(times, 95), counts_text))

    # The /dataset page through the whole WSGI stack (anonymous, rendered).
    page_times = []
    try:
        from werkzeug.test import Client

        client = Client(ckan.app)
        for i in range(WARMUP + min(args.runs, 10)):
            t0 = time.perf_counter()
            resp = client.get("/dataset/")
            elapsed = (time.perf_counter() - t0) * 1000
            if resp.status_code != 200:
                raise RuntimeError(f"HTTP {resp.status_code}")
            model.Session.remove()
            if i >= WARMUP:
                page_times.append(elapsed)
        results.append((f"7 GET /dataset/ in-process WSGI ({len(page_times)} runs)",
                        pct(page_times, 50), pct(page_times, 95), "HTTP 200"))
    except Exception as e:  # noqa: BLE001
        results.append(("7 GET /dataset/ in-process WSGI", None, None,
                        f"failed: {e.__class__.__name__}: {e}"))

    http = measure_http(ini, args.runs, words)
    for label, times in http["times"].items():
        if isinstance(times, str):
            results.append((label, None, None, times))
        else:
            results.append((label, pct(times, 50), pct(times, 95), "HTTP 200"))

    load_after = os.getloadavg()
    rss_mb = _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss / 1024

    # --- report ---
    print()
    print("Machine")
    for k, v in machine_info(engine).items():
        print(f"  {k:14} {v}")
    print()
    print("Data")
    print(f"  {'search backend':24} " + (
        "PostgreSQL plugin" if solr is None else f"Solr ({solr.url})"))
    for k, v in data_shape(engine, site_id, pg_index=solr is None).items():
        print(f"  {k:24} {v:,}" if isinstance(v, int) else f"  {k:24} {v}")
    print()
    print(f"package_search, in-process through get_action, {args.runs} runs after "
          f"{WARMUP} warm-up runs")
    width = max(len(r[0]) for r in results)
    print(f"  {'query':{width}}  {'p50 ms':>8}  {'p95 ms':>8}  results")
    for label, p50, p95, counts in results:
        if p50 is None:
            print(f"  {label:{width}}  {'-':>8}  {'-':>8}  {counts}")
        else:
            print(f"  {label:{width}}  {p50:8.1f}  {p95:8.1f}  {counts}")
    print()
    print("Slowest measured run of each query")
    for label, (ms, q, count) in slowest_runs:
        print(f"  {label:{width}}  {ms:8.1f} ms  q={q!r}, {count:,} results")
    print()
    print("Index writes")
    if rebuild_rate is not None:
        print(f"  rebuild rate            {rebuild_rate:,.1f} datasets/s ({rebuild_note})")
    print(f"  per dataset (n={len(write_sample)}): package_show p50 "
          f"{pct(write['package_show'], 50):.1f} ms, indexing + write p50 "
          f"{pct(write['index'], 50):.1f} ms / p95 {pct(write['index'], 95):.1f} ms")
    print(f"  peak RSS of this process {rss_mb:,.0f} MB")
    if http.get("rss"):
        print(f"  web server (ckan run, one process) RSS after serving the HTTP "
              f"queries {http['rss']:,.0f} MB, peak {http['hwm']:,.0f} MB")
    print(f"  load average (1/5/15 min) before the queries "
          f"{' '.join(f'{x:.2f}' for x in load_before)}, after "
          f"{' '.join(f'{x:.2f}' for x in load_after)} (this process adds ~1)")
    print()
    print("Query words: " + ", ".join(repr(w) for w in distinct))
    print("Rerun: .venv/bin/python bench/search.py --n {} --runs {}{}".format(
        args.n, args.runs, "" if solr is None else " --backend solr"))

    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f)

    if args.explain and solr is None:
        print()
        print("SQL per query (one call each)")
        for label, make in cases:
            print(f"  {label}")
            context, data_dict = make(WARMUP)
            shown = {k: data_dict[k] for k in ("q", "fq", "sort") if data_dict.get(k)}
            print(f"      {shown}")
            try:
                explain_call(ckan, context, data_dict, analyze=True)
            except Exception as e:  # noqa: BLE001
                print(f"      failed: {e.__class__.__name__}: {e}")


if __name__ == "__main__":
    main()
