"""Administrative units: the committed admin_units.json, the code scheme of
``spatial_coverage`` and the AdminUnits API. Plain unit tests, no database."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ckanext.binhphuoc import codelists

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "schemas" / "codelists" / "admin_units.json"


@pytest.fixture(scope="module")
def units():
    return codelists.admin_units()


@pytest.fixture(scope="module")
def data():
    return json.loads(COMMITTED.read_text(encoding="utf-8"))


def test_committed_file_matches_the_installed_package(tmp_path):
    """Regenerate from the installed vietnamadminunits: a data upgrade cannot drift
    silently (rerun bin/build-admin-units and commit the result)."""
    assert importlib.util.find_spec("vietnamadminunits") is not None, (
        "vietnamadminunits is not installed: pip install --no-deps -r "
        "config/requirements-nodeps.txt")
    subprocess.run([sys.executable, str(ROOT / "bin" / "build-admin-units"),
                    "--out", str(tmp_path)], check=True, capture_output=True)
    assert (tmp_path / "admin_units.json").read_bytes() == COMMITTED.read_bytes()


def test_build_does_not_import_the_package(tmp_path):
    """Its modules pull geocoding dependencies; the build reads data files only."""
    script = ROOT / "bin" / "build-admin-units"
    program = (
        "import runpy, sys\n"
        f"sys.argv = ['build-admin-units', '--out', {str(tmp_path)!r}]\n"
        "try:\n"
        f"    runpy.run_path({str(script)!r}, run_name='__main__')\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "print(sorted(m for m in sys.modules if m.startswith('vietnamadminunits')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", program], check=True,
                          capture_output=True, text=True)
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_installed_copy_is_the_committed_file():
    path = codelists.codelists_dir().joinpath("admin_units.json")
    assert path.read_bytes() == COMMITTED.read_bytes()


def test_header_and_no_geodata(data):
    src = data["header"]["source"]
    assert (src["package"], src["version"], src["license"]) == ("vietnamadminunits", "1.0.4", "MIT")
    assert src["copyright"]
    assert "MIT" in data["header"]["attribution"]
    assert data["header"]["fields"] == {
        "provinces": ["code", "name", "short_name"],
        "communes": ["code", "name", "type", "province_code"],
        "legacy_provinces": ["code", "name", "short_name"],
        "legacy_districts": ["code", "name", "type", "province_code"],
        "legacy_wards": ["code", "name", "type", "district_code", "province_code"],
    }
    keys: set[str] = set()
    values: list[object] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            keys.update(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
        else:
            values.append(node)

    walk(data)
    assert not {k for k in keys if any(w in k.lower() for w in (
        "lat", "lon", "bound", "area", "geo", "alias", "keyword"))}
    assert not [v for v in values if isinstance(v, float)]
    assert not [v for v in values if isinstance(v, str) and v.endswith(", Vietnam")]
    for table in ("provinces", "communes", "legacy_provinces", "legacy_districts", "legacy_wards"):
        for row in data[table]:
            assert all(isinstance(v, str) for v in row), row
            assert len(row) == len(data["header"]["fields"][table])


def test_counts(data):
    assert len(data["provinces"]) == 34
    assert len(data["communes"]) == 3321
    assert len(data["legacy_provinces"]) == 63
    assert len(data["legacy_districts"]) == 696
    assert len(data["legacy_wards"]) == 10035  # + 5 island districts without wards: 10,040 rows
    assert set(data["successors"]["provinces"]) == {r[0] for r in data["legacy_provinces"]}
    assert set(data["successors"]["districts"]) == {r[0] for r in data["legacy_districts"]}
    assert set(data["successors"]["wards"]) == {r[0] for r in data["legacy_wards"]}


def test_sorted_by_code(data):
    for table in ("provinces", "communes", "legacy_provinces", "legacy_districts", "legacy_wards"):
        codes = [r[0] for r in data[table]]
        assert codes == sorted(codes) and len(codes) == len(set(codes))


def test_province_successors(units):
    assert units.current_provinces("legacy:70") == ["75"]  # Bình Phước -> Đồng Nai
    assert units.current_provinces("legacy:72") == ["80"]  # Tây Ninh -> Tây Ninh
    assert units.current_provinces("legacy:80") == ["80"]  # Long An -> Tây Ninh
    assert units.current_provinces("legacy:52") == ["52"]  # Bình Định -> Gia Lai
    assert units.current_provinces("legacy:64") == ["52"]  # Gia Lai -> Gia Lai
    assert [u.name for u in units.successors("legacy:70")] == ["Tỉnh Đồng Nai"]
    assert units.resolve("legacy:70").name == "Tỉnh Bình Phước"
    assert units.resolve("legacy:52").name == "Tỉnh Bình Định"
    assert units.resolve("52").name == "Tỉnh Gia Lai"


def test_binh_phuoc_ward_maps_to_a_commune_of_dong_nai(units, data):
    wards = [r for r in data["legacy_wards"] if r[4] == "70"]
    assert len(wards) > 100
    for code, *_ in wards:
        succ = units.successors("legacy:" + code)
        assert succ and all(u.era == "current" and u.level == "commune" for u in succ)
        assert {u.province_code for u in succ} == {"75"}
    # Phường Tân Phú (Đồng Xoài) -> Phường Bình Phước, Đồng Nai
    assert units.current_communes("legacy:25195") == ["25195"]
    assert units.current_provinces("legacy:25195") == ["75"]


def test_divided_ward_lists_the_default_successor_first(data):
    conv_default_first = data["successors"]["wards"]
    divided = {k: v for k, v in conv_default_first.items() if len(v) > 1}
    assert divided  # some wards were split between several communes
    for v in divided.values():
        assert len(v) == len(set(v))


def test_district_successors_are_the_union_of_its_wards(units, data):
    district = "689"  # Thành phố Đồng Xoài (Bình Phước)
    wards = [r[0] for r in data["legacy_wards"] if r[3] == district]
    union = sorted({c for w in wards for c in data["successors"]["wards"][w]})
    assert units.current_communes("legacy:689") == union
    assert "25210" in union  # Phường Đồng Xoài
    assert units.current_provinces("legacy:689") == ["75"]
    # an island district without wards still has successors
    assert units.current_communes("legacy:755")  # Côn Đảo


def test_code_scheme(units):
    # current codes are plain
    u = units.resolve("75")
    assert (u.era, u.level, u.bare, u.code) == ("current", "province", "75", "75")
    u = units.resolve("25210")
    assert (u.era, u.level, u.province_code) == ("current", "commune", "75")
    # legacy codes are prefixed
    u = units.resolve("legacy:70")
    assert (u.era, u.level, u.bare, u.code, u.canonical) == (
        "legacy", "province", "70", "legacy:70", "legacy:70")
    assert units.resolve("legacy:689").level == "district"
    u = units.resolve("legacy:25195")
    assert (u.era, u.level, u.district_code, u.province_code) == ("legacy", "ward", "689", "70")
    # a plain closed code is read as legacy; a plain current code is always current
    u = units.resolve("70")
    assert (u.era, u.level, u.code, u.canonical) == ("legacy", "province", "70", "legacy:70")
    assert units.resolve("689").era == "legacy"
    assert units.resolve("52").era == "current"
    assert units.resolve("25195").era == "current"  # also a legacy ward code
    assert units.resolve("legacy:25195").name == "Phường Tân Phú"
    # unknown
    for bad in ("99", "legacy:99", "legacy:7", "abc", "", None, "legacy:"):
        assert units.resolve(bad) is None


def test_current_codes(units):
    assert units.successors("25210") == [units.resolve("25210")]
    assert units.current_provinces("25210") == ["75"]
    assert units.current_communes("25210") == ["25210"]
    assert units.current_provinces("75") == ["75"]
    assert units.current_communes("75") == []
    assert units.current_communes("legacy:70") == []  # a province yields no communes
    assert units.current_provinces("nonsense") == []


def test_labels(units):
    assert units.label("25210") == "Phường Đồng Xoài, Đồng Nai"
    assert units.label("75") == "Tỉnh Đồng Nai"
    assert units.label("legacy:70") == "Tỉnh Bình Phước (cũ)"
    assert units.label("legacy:70", "en") == "Tỉnh Bình Phước (former)"
    assert units.label("legacy:689") == "Thành phố Đồng Xoài, Bình Phước (cũ)"
    assert units.label("legacy:25195") == "Phường Tân Phú, Thành phố Đồng Xoài, Bình Phước (cũ)"
    assert units.label("12345678") == "12345678"


@pytest.mark.parametrize("profile", ["binhphuoc", "tayninh", "binhdinh"])
def test_choices_order(units, profile):
    from ckanext.binhphuoc.profile import get_profile

    p = get_profile(profile)
    choices = units.choices(profile)
    values = [c["value"] for c in choices]
    assert len(values) == len(set(values))
    for c in choices:
        assert c["label"]["vi"] and c["label"]["en"]
    assert values[0] == p.current_province_code
    n_communes = len(units.communes_of(p.current_province_code))
    communes = values[1:1 + n_communes]
    assert set(communes) == set(units.communes_of(p.current_province_code))
    # communes that came from the first legacy province come first
    first_legacy = p.legacy_province_codes[0]
    from_first = {s.bare for d in units.legacy_districts_of(first_legacy)
                  for s in units.successors("legacy:" + d)}
    came = [c in from_first for c in communes]
    assert came[0]
    assert came == sorted(came, reverse=True)
    rest = values[1 + n_communes:]
    assert rest[0] == "legacy:" + first_legacy
    # then the profile's legacy units, then other current provinces, then other legacy ones
    others = [v for v in rest if not v.startswith("legacy:")]
    assert others == [c for c in units.provinces() if c != p.current_province_code]
    tail = rest[rest.index(others[0]):]
    assert tail[len(others):] == ["legacy:" + c for c in units.legacy_provinces()
                                  if c not in p.legacy_province_codes]
    # no communes of other provinces
    for v in values:
        u = units.resolve(v)
        if u.era == "current" and u.level == "commune":
            assert u.province_code == p.current_province_code
        if u.era == "legacy" and u.level != "province":
            assert u.province_code in p.legacy_province_codes


def test_choices_binhphuoc_size_and_start(units):
    choices = units.choices("binhphuoc")
    assert len(choices) < 400
    assert choices[0]["value"] == "75"
    first = units.resolve(choices[1]["value"])
    assert first.level == "commune"
    came_from_bp = {s.bare for d in units.legacy_districts_of("70")
                    for s in units.successors("legacy:" + d)}
    assert first.bare in came_from_bp
    assert "legacy:70" in [c["value"] for c in choices]
    assert "legacy:689" in [c["value"] for c in choices]


def test_search(units):
    hits = units.search("dong xoai")
    values = [h["value"] for h in hits]
    assert "25210" in values and "legacy:689" in values
    assert values.index("25210") < values.index("legacy:689")  # current first
    assert units.search("ĐỒNG XOÀI") == hits
    assert len(units.search("an", limit=7)) == 7
    assert units.search("") == []
    # the profile's units come first
    bp = units.search("phuoc", limit=5, profile="binhphuoc")
    assert all(units.resolve(h["value"]).province_code in ("75", "70") for h in bp)
    assert units.search("legacy:70")[0]["value"] == "legacy:70"
