"""The MariaDB source server of the SQL harvester's tests (tests/harvest/mariadb.py):
what the harvester relies on works against the real server, through SQLAlchemy + PyMySQL."""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from sqlalchemy.engine.url import make_url

# The fixtures mariadb_server / mariadb_url / mariadb_url_env come from
# tests/harvest/conftest.py. Importing them here too made a second session
# server of the same process, in the same datadir: the first one's socket was
# replaced and later tests created their databases on the wrong server.
from tests.harvest.mariadb import PASSWORD_ENV, first_port, url_without_password

ROWS = [
    (1, "Thành phố Đồng Xoài", "Phường Tân Phú", "Số ca sốt xuất huyết giảm 12%"),
    (2, "Huyện Bù Gia Mập", "Xã Đắk Ơ", "Trường THCS Nguyễn Huệ — điểm trường lẻ"),
    (3, "Thị xã Phước Long", "Phường Long Thủy", "Ghi chú có ký tự 4 byte: 𠀧 🌾"),
]

DDL = """
CREATE TABLE don_vi (
    id INT PRIMARY KEY COMMENT 'Mã đơn vị',
    huyen VARCHAR(100) NOT NULL COMMENT 'Huyện, thị xã, thành phố',
    xa VARCHAR(100) NOT NULL COMMENT 'Phường, xã, thị trấn',
    ghi_chu TEXT COMMENT 'Ghi chú (tiếng Việt, utf8mb4)'
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Danh mục đơn vị hành chính tỉnh Bình Phước'
"""


@pytest.fixture
def engine(mariadb_url):
    eng = sa.create_engine(mariadb_url, future=True)
    yield eng
    eng.dispose()


@pytest.fixture
def don_vi(engine):
    with engine.begin() as conn:
        conn.exec_driver_sql(DDL)
        conn.execute(sa.text("INSERT INTO don_vi VALUES (:id, :huyen, :xa, :ghi_chu)"),
                     [dict(zip(("id", "huyen", "xa", "ghi_chu"), r)) for r in ROWS])
    return engine


def test_server_is_private(mariadb_server):
    assert mariadb_server.host == "127.0.0.1"
    assert first_port() <= mariadb_server.port < first_port() + 100
    assert mariadb_server.pid and os.path.exists(f"/proc/{mariadb_server.pid}")
    assert mariadb_server.datadir.is_dir()
    assert mariadb_server.datadir.parent.name.startswith("test-mariadb-")
    if os.geteuid() == 0:  # as root the server runs as the mysql OS user
        with open(f"/proc/{mariadb_server.pid}/status") as f:
            uid_line = next(line for line in f if line.startswith("Uid:"))
        import pwd

        assert int(uid_line.split()[1]) == pwd.getpwnam("mysql").pw_uid


def test_vietnamese_text_round_trip(don_vi):
    with don_vi.connect() as conn:
        got = conn.execute(sa.text("SELECT id, huyen, xa, ghi_chu FROM don_vi ORDER BY id")).all()
        assert [tuple(r) for r in got] == ROWS
        # the server compares with the utf8mb4 collation, not bytes
        n = conn.execute(sa.text("SELECT COUNT(*) FROM don_vi WHERE huyen = :h"),
                         {"h": "thành phố đồng xoài"}).scalar_one()
        assert n == 1
        charset = conn.exec_driver_sql(
            "SELECT character_set_name FROM information_schema.columns "
            "WHERE table_schema = DATABASE() AND table_name = 'don_vi' AND column_name = 'ghi_chu'"
        ).scalar_one()
        assert charset == "utf8mb4"


def test_comments_are_the_data_dictionary(don_vi):
    insp = sa.inspect(don_vi)
    assert insp.get_table_names() == ["don_vi"]
    assert insp.get_table_comment("don_vi")["text"] == "Danh mục đơn vị hành chính tỉnh Bình Phước"
    comments = {c["name"]: c.get("comment") for c in insp.get_columns("don_vi")}
    assert comments == {
        "id": "Mã đơn vị",
        "huyen": "Huyện, thị xã, thành phố",
        "xa": "Phường, xã, thị trấn",
        "ghi_chu": "Ghi chú (tiếng Việt, utf8mb4)",
    }
    assert insp.get_pk_constraint("don_vi")["constrained_columns"] == ["id"]


def _is_read_only_error(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    # ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
    return bool(orig.args) and orig.args[0] == 1792


def test_set_transaction_read_only_refuses_insert(don_vi):
    with don_vi.connect() as conn:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")  # applies to the next transaction
        assert conn.execute(sa.text("SELECT COUNT(*) FROM don_vi")).scalar_one() == 3
        with pytest.raises(sa.exc.DBAPIError) as err:
            conn.execute(sa.text("INSERT INTO don_vi VALUES (9, 'x', 'y', NULL)"))
        assert _is_read_only_error(err.value), err.value
        conn.rollback()
    with don_vi.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM don_vi")).scalar_one() == 3


def test_start_transaction_read_only_refuses_insert(don_vi):
    raw = don_vi.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("START TRANSACTION READ ONLY")
        cur.execute("SELECT huyen FROM don_vi WHERE id = 2")
        assert cur.fetchone()[0] == "Huyện Bù Gia Mập"
        with pytest.raises(Exception) as err:
            cur.execute("UPDATE don_vi SET huyen = 'z' WHERE id = 2")
        assert _is_read_only_error(err.value), err.value
        raw.rollback()
    finally:
        raw.close()


def test_each_test_gets_a_fresh_database(mariadb_url, engine):
    assert make_url(mariadb_url).database.startswith("bt_")
    assert sa.inspect(engine).get_table_names() == []


def test_url_env_for_the_harvester(mariadb_url, mariadb_url_env):
    assert mariadb_url_env == "BINHPHUOC_TEST_MARIADB_URL"
    full = os.environ[mariadb_url_env]
    assert full == mariadb_url
    password = os.environ[PASSWORD_ENV]
    assert password and make_url(full).password == password

    bare = url_without_password(full)
    assert password not in bare
    assert make_url(bare).password is None
    assert make_url(bare).set(password=password) == make_url(full)

    eng = sa.create_engine(full, future=True)
    try:
        with eng.connect() as conn:
            assert conn.exec_driver_sql("SELECT DATABASE()").scalar_one() == make_url(full).database
    finally:
        eng.dispose()


def test_test_account_is_confined_to_test_databases(engine):
    with engine.connect() as conn:
        with pytest.raises(sa.exc.DBAPIError):
            conn.exec_driver_sql("CREATE DATABASE other_db")
        with pytest.raises(sa.exc.DBAPIError):
            conn.exec_driver_sql("SELECT COUNT(*) FROM mysql.user")
