"""Issue 19 in Chromium: the main pages of the portal as a citizen and a civil
servant meet them, at 1366 px (desktop) and 390 px (phone) wide.

For each page × width (one visit, shared by the two tests of that pair):

- a full-page screenshot in test-results/screenshots/<page>-<width>.png (and the
  page's HTML after its scripts ran, <page>-<width>.html, and every axe-core
  violation of any impact, <page>-<width>.axe.json);
- ``test_page_is_accessible_and_local``: every network request the page makes
  goes to the portal itself (BP §6.6: no CDN, no avatar host), the page has a
  Content-Security-Policy and Chromium reports no violation of it (its scripts,
  styles, images and frames all work under the policy), and axe-core
  (node_modules/axe-core, injected into the page) finds no violation of impact
  "serious" or "critical";
- ``test_page_speaks_vietnamese``: the visible text (``document.body.innerText``)
  holds no phrase of tests/english.py (English UI labels, raw internals).

``test_publishing_form_with_the_keyboard_only``: a publisher completes the
dataset form with Tab / Shift+Tab / typing / arrow keys / Space / Enter only,
the focus always visible, and the dataset is created.

docs/accessibility.md says how to run them and read the results.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from ckan.tests import factories, helpers

from tests.e2e.conftest import ROOT
from tests.english import english_in, raw_in
from tests.schema.conftest import VALID_DATASET
from tests.workflow.conftest import (
    VERIFIER_ORG,
    WORKFLOW_PLUGINS,
    bring_to_state,
    workflow_marks,
)

PASSWORD = "Mat-khau-trang-2025"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-results" / "screenshots"
WIDTHS = (1366, 390)
BLOCKING = ("serious", "critical")

pytestmark = [
    m for m in workflow_marks() if m.name != "usefixtures"
] + [
    pytest.mark.ckan_config("ckan.plugins", (
        "binhphuoc_guard binhphuoc_schema binhphuoc_workflow binhphuoc_feedback binhphuoc_pgsearch "
        "scheming_datasets scheming_organizations scheming_groups activity datastore "
        "datatables_view text_view image_view")),
    pytest.mark.ckan_config("ckan.views.default_views", "datatables_view"),
    pytest.mark.live_config({"ckan.locale_default": "vi"}),
    # the live server runs the workflow's plugin list (its mark comes first), with feedback
    pytest.mark.live_config({"ckan.plugins": WORKFLOW_PLUGINS.replace(
        "binhphuoc_workflow", "binhphuoc_workflow binhphuoc_feedback")}),
]

# page name → (path, who is signed in: None, "publisher" or "verifier")
PAGES: dict[str, tuple[str, str | None]] = {
    "home": ("/", None),
    "search": ("/dataset/?q=tr%C6%B0%E1%BB%9Dng&organization=so-giao-duc", None),
    "dataset": ("/dataset/truong-hoc", None),
    "resource": ("/dataset/truong-hoc/resource/{resource_id}", None),
    "organizations": ("/organization/", None),
    "organization": ("/organization/so-giao-duc", None),
    "login": ("/user/login", None),
    "dataset-form": ("/dataset/new", "publisher"),
    "review-queue": ("/dashboard/workflow", "verifier"),
    "feedback-form": ("/dataset/truong-hoc/feedback", None),
    "agency-dashboard": ("/dashboard/agency", "publisher"),
    "feedback-list": ("/dashboard/feedback", "publisher"),
}

# Built once per module: the site's data, then each page × width's visit.
_SITE: dict[str, Any] = {}
_VISITS: dict[tuple[str, int], dict[str, Any]] = {}


def _build_site(reset_db, migrate_db_for) -> dict[str, Any]:
    """Two agencies, the verifying department, a published dataset with a
    DataStore table and its views, and one dataset waiting for the verifier."""
    import ckan.plugins as p

    reset_db()
    migrate_db_for("activity")
    for plugin in ("binhphuoc_pgsearch", "binhphuoc_schema", "binhphuoc_workflow",
                   "binhphuoc_feedback"):
        if p.plugin_loaded(plugin):
            migrate_db_for(plugin)

    class People:
        pass

    people = People()
    people.publisher = factories.User(name="nguoi-dang", fullname="Người đăng Sở GD",
                                      email="dang@example.com", password=PASSWORD, image_url="")
    people.owner = factories.User(name="lanh-dao-so", fullname="Lãnh đạo Sở GD",
                                  email="lanhdao@example.com", password=PASSWORD, image_url="")
    people.verifier = factories.User(name="tham-dinh", fullname="Chuyên viên thẩm định",
                                     email="thamdinh@example.com", password=PASSWORD,
                                     image_url="")
    org = factories.Organization(
        name="so-giao-duc", title="Sở Giáo dục và Đào tạo", agency_code="000.00.21.H10",
        agency_level="tinh", image_url="", description="Cơ quan chuyên môn về giáo dục của tỉnh.",
        users=[{"name": people.publisher["name"], "capacity": "editor"},
               {"name": people.owner["name"], "capacity": "admin"}])
    factories.Organization(
        name=VERIFIER_ORG, title="Sở Khoa học và Công nghệ", agency_code="000.00.23.H10",
        agency_level="tinh", image_url="",
        users=[{"name": people.verifier["name"], "capacity": "member"}])

    def act(user, action, **data):
        return helpers.call_action(action, context={"user": user["name"], "ignore_auth": False},
                                   **data)

    pkg = act(people.publisher, "package_create",
              **dict(VALID_DATASET, owner_org=org["id"], name="truong-hoc",
                     title="Mạng lưới trường học tỉnh Bình Phước"))
    res = act(people.publisher, "resource_create", package_id=pkg["id"],
              name="Danh sách trường", url="", url_type="datastore", format="CSV",
              description="Tên, cấp học và địa chỉ của các trường.")
    helpers.call_action(
        "datastore_create", resource_id=res["id"], force=True,
        fields=[{"id": "Tên trường", "type": "text"}, {"id": "Cấp học", "type": "text"},
                {"id": "Số học sinh", "type": "int"}],
        records=[{"Tên trường": "THPT Đồng Xoài", "Cấp học": "THPT", "Số học sinh": 1240},
                 {"Tên trường": "THCS Tân Phú", "Cấp học": "THCS", "Số học sinh": 860}])
    bring_to_state(people, act, pkg["id"], "published")
    waiting = act(people.publisher, "package_create",
                  **dict(VALID_DATASET, owner_org=org["id"], name="diem-truong",
                         title="Điểm trường mầm non"))
    bring_to_state(people, act, waiting["id"], "approved")
    # a report answered on the dataset page, one open in the agency's lists
    answered = helpers.call_action("binhphuoc_feedback_create", package_id=pkg["id"],
                                   kind="error", text="Sĩ số THCS Tân Phú chưa cập nhật")
    act(people.publisher, "binhphuoc_feedback_update", id=answered["id"],
        answer="Đã cập nhật sĩ số năm học 2026–2027")
    helpers.call_action("binhphuoc_feedback_create", package_id=pkg["id"], kind="complaint",
                        text="Đề nghị bổ sung số điện thoại của trường")
    return {"people": people, "org": org, "dataset": pkg, "resource_id": res["id"]}


@pytest.fixture
def site(request, reset_db, migrate_db_for):
    """The module's data, built by the first test that asks (the plugins are
    loaded in-process only then: loading them for every test costs seconds)."""
    if not _SITE:
        request.getfixturevalue("with_plugins")
        _SITE.update(_build_site(reset_db, migrate_db_for))
    return _SITE


def _portal_host(url: str) -> str:
    return urlsplit(url).netloc


def _log_in(page, base: str, user: dict) -> None:
    page.goto(base + "/user/login")
    form = page.locator("form:has(#field-login)")
    form.locator("#field-login").fill(user["name"])
    form.locator("#field-password").fill(PASSWORD)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.locator("form[action$='/user/_logout']").count() == 1, \
        f"could not log in as {user['name']}"


def _signed_in(browser, base: str, site: dict, who: str | None) -> Any:
    """The cookies of ``who`` logged in through the login form (once per module)."""
    if who is None:
        return None
    key = "session:" + who
    if key not in _SITE:
        ctx = browser.new_context(locale="vi-VN")
        try:
            _log_in(ctx.new_page(), base, getattr(site["people"], who))
            _SITE[key] = ctx.storage_state()
        finally:
            ctx.close()
    return _SITE[key]


CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(
  e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' in '
  + (e.sourceFile || location.href) + ':' + e.lineNumber));
"""

AXE_RUN = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), impact: n.impact,
                              summary: (n.failureSummary || '').slice(0, 300)}))}));
}"""


def inject_axe(page) -> None:
    """axe-core into the page, evaluated through the DevTools protocol: an
    injected <script> would be refused by the portal's Content-Security-Policy
    (script-src 'self', guard/security.py)."""
    page.evaluate(AXE.read_text(encoding="utf-8"))


def _visit(browser, base: str, site: dict, name: str, width: int) -> dict[str, Any]:
    path, who = PAGES[name]
    path = path.format(resource_id=site["resource_id"])
    ctx = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                              viewport={"width": width, "height": 900},
                              is_mobile=width < 500, has_touch=width < 500,
                              storage_state=_signed_in(browser, base, site, who))
    ctx.set_default_timeout(20_000)
    try:
        page = ctx.new_page()
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        # the portal's Content-Security-Policy (guard/security.py): what it
        # refused, as Chromium reports it (console, and the page's event)
        csp: list[str] = []
        page.on("console", lambda m: csp.append(m.text)
                if "Content Security Policy" in m.text else None)
        page.add_init_script(CSP_LISTENER)
        response = page.goto(base + path, wait_until="load")
        status = response.status if response else None
        page.wait_for_load_state("networkidle")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / f"{name}-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        (SCREENSHOTS / f"{name}-{width}.html").write_text(page.content(), encoding="utf-8")
        text = page.evaluate("() => document.body.innerText")
        csp += page.evaluate("() => window.__cspViolations || []")
        inject_axe(page)
        violations = page.evaluate(AXE_RUN)
        (SCREENSHOTS / f"{name}-{width}.axe.json").write_text(
            json.dumps(violations, ensure_ascii=False, indent=1), encoding="utf-8")
        return {"url": page.url, "status": status, "requests": requests, "text": text,
                "violations": violations, "screenshot": shot, "csp": csp,
                "headers": response.headers if response else {}}
    finally:
        ctx.close()


@pytest.fixture
def visited(browser, live_server, site):
    def run(name: str, width: int) -> dict[str, Any]:
        key = (name, width)
        if key not in _VISITS:
            _VISITS[key] = _visit(browser, live_server.url, site, name, width)
        return _VISITS[key]

    return run


def _describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
        for n in v["nodes"][:8]:
            lines.append(f"    {n['target']}  [{n['impact']}] {n['summary'].splitlines()[-1:]}")
        if len(v["nodes"]) > 8:
            lines.append(f"    … {len(v['nodes']) - 8} more")
    return "\n".join(lines)


PAIRS = [pytest.param(name, width, id=f"{name}-{width}") for name in PAGES for width in WIDTHS]


@pytest.mark.parametrize("name,width", PAIRS)
def test_page_is_accessible_and_local(visited, live_server, name, width):
    v = visited(name, width)
    assert v["status"] == 200, f"{name}: {v['url']} answered {v['status']}"
    host = _portal_host(live_server.url)
    foreign = sorted({u for u in v["requests"]
                      if urlsplit(u).scheme in ("http", "https", "ws", "wss")
                      and _portal_host(u) != host})
    blocking = [x for x in v["violations"] if x["impact"] in BLOCKING]
    problems = []
    if "content-security-policy" not in {k.lower() for k in v["headers"]}:
        problems.append("no Content-Security-Policy header")
    if v["csp"]:
        problems.append("refused by the Content-Security-Policy:\n"
                        + "\n".join(f"- {m}" for m in v["csp"]))
    if foreign:
        problems.append("requests to hosts other than the portal:\n"
                        + "\n".join(f"- {u}" for u in foreign))
    if blocking:
        problems.append("axe-core violations (serious/critical):\n" + _describe(blocking))
    assert not problems, (f"{name} at {width} px ({v['url']}, screenshot {v['screenshot']}):\n"
                          + "\n".join(problems))


@pytest.mark.parametrize("name,width", PAIRS)
def test_page_speaks_vietnamese(visited, name, width):
    v = visited(name, width)
    english, raw = english_in(v["text"]), raw_in(v["text"])
    assert not english and not raw, (
        f"{name} at {width} px ({v['url']}, screenshot {v['screenshot']}) shows "
        f"English {json.dumps(english, ensure_ascii=False)} and raw internals "
        f"{json.dumps(raw, ensure_ascii=False)}")



# --- the publishing form with the keyboard only ------------------------------------------------

FOCUSED = """() => {
  const e = document.activeElement;
  const box = e.closest('.select2-container');
  const shown = box ? box.querySelector('.select2-choice, .select2-choices') : e;
  const s = getComputedStyle(shown);
  const field = box ? box.id.replace(/^s2id_/, '') : (e.id || e.name || '');
  return {tag: e.tagName, field: field, type: e.type || '',
          value: e.tagName === 'BUTTON' ? e.value : '',
          text: (e.innerText || '').trim().slice(0, 40),
          inForm: !!e.closest('form#dataset-edit, form#resource-edit'),
          outline: s.outlineStyle === 'none' ? 0 : parseFloat(s.outlineWidth)};
}"""

# The fields of the dataset form a user can reach, in the page's order (a
# select2 widget under the id of the select or input it stands for).
FORM_FIELDS = """() => Array.from(document.querySelectorAll(
    '#dataset-edit input:not([type=hidden]), #dataset-edit select, #dataset-edit textarea'))
  .filter(e => e.offsetParent !== null || e.closest('.select2-container') ||
               document.getElementById('s2id_' + e.id))
  .map(e => {
    const box = e.closest('.select2-container');
    return box ? box.id.replace(/^s2id_/, '') : (e.id || e.name);
  })
  .filter((f, i, all) => f && all.indexOf(f) === i)"""

# What the publisher types or presses on reaching each field (all others: Tab on).
TYPED = {
    "field-title": "Trường học ngoài công lập tỉnh Bình Phước",
    "field-notes": "Danh sách trường tư thục và dân lập, cập nhật mỗi học kỳ.",
    "field-objective": "Công khai mạng lưới trường ngoài công lập",
    "field-data_scope": "Toàn tỉnh",
    "field-master_data": "Mã trường, tên trường",
    "field-target_users": "Phụ huynh, học sinh",
    "field-information_source": "Sở Giáo dục và Đào tạo",
    "code_lists_used": "Danh mục đơn vị hành chính",
    "field-focal_point_name": "Trần Thị B",
    "field-focal_point_email": "ttb@sgddt.binhphuoc.gov.vn",
}
PRESSED = {
    "field-data_kind": ["ArrowDown", "ArrowDown"],    # the third kind: chuyen_nganh
    "field-sector": ["ArrowDown"],                     # a listbox: the first sector
    "field-update_frequency": ["ArrowDown"],
    "field-state_secret": ["Space", "Space"],          # checked, then unchecked again
}


def _tab_to(page, field: str, value: str = "", limit: int = 40) -> list[dict]:
    """Tab until ``field`` (a button: of ``value``) has the focus; the stops on the way."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUSED)
        stops.append(stop)
        if stop["field"] == field and (not value or stop["value"] == value):
            return stops
    pytest.fail(f"{field} not reached with {limit} Tab presses; stops: "
                + ", ".join(s["field"] or s["tag"] + ":" + s["text"] for s in stops))


def _no_focus_ring(stops: list[dict]) -> list[str]:
    return [f"{s['tag']} {s['field']} {s['text']!r}" for s in stops if s["outline"] < 2]


@pytest.mark.usefixtures("with_plugins")
def test_publishing_form_with_the_keyboard_only(browser, live_server, site):
    """A publisher creates a dataset with the keyboard only: Tab from the top of
    the page reaches every field of the form in the order they are shown, each
    with a visible focus ring; typing, arrow keys and Space fill them; Shift+Tab
    goes back; Enter on the submit button saves; the resource stage is done the
    same way and the dataset exists with what was typed."""
    ctx = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                              viewport={"width": 1366, "height": 900})
    ctx.set_default_timeout(20_000)
    try:
        page = ctx.new_page()
        csp: list[str] = []  # the resource form's buttons work under the policy
        page.on("console", lambda m: csp.append(m.text)
                if "Content Security Policy" in m.text else None)
        _log_in(page, live_server.url, site["people"].publisher)
        page.goto(live_server.url + "/dataset/new")
        page.wait_for_load_state("networkidle")

        stops = _tab_to(page, "field-title")
        assert stops[0]["tag"] == "A" and stops[0]["text"] == "Chuyển đến nội dung chính", stops[0]
        visited: list[str] = []
        while True:
            stop = stops[-1]
            field = stop["field"]
            if stop["inForm"] and field and field not in visited:
                visited.append(field)
            if field in TYPED:
                page.keyboard.type(TYPED[field])
            for key in PRESSED.get(field, []):
                page.keyboard.press(key)
            if stop["tag"] == "BUTTON" and field == "save":
                break
            if field == "field-notes":
                # Shift+Tab from the next stop comes back to the description
                page.keyboard.press("Tab")
                page.keyboard.press("Shift+Tab")
                assert page.evaluate(FOCUSED)["field"] == "field-notes"
            page.keyboard.press("Tab")
            stops.append(page.evaluate(FOCUSED))
            assert len(stops) < 150, "the submit button was never reached"
            assert stops[-1]["tag"] != "BODY", "the focus left the page before the submit button"

        assert not _no_focus_ring(stops), f"no visible focus on: {_no_focus_ring(stops)}"
        # every field of the form, once, in the order of the page
        shown = page.evaluate(FORM_FIELDS)
        fields = [f for f in visited if f != "save"]
        missing = [f for f in shown if f not in fields and not f.startswith("s2id_autogen")]
        assert not missing, f"fields the keyboard never reached: {missing}"
        order = [f for f in shown if f in fields]
        assert [f for f in fields if f in order] == order, \
            f"Tab order {fields} differs from the page's order {order}"
        values = page.evaluate("""() => ({
            kind: document.getElementById('field-data_kind').value,
            sector: Array.from(document.getElementById('field-sector').selectedOptions)
                    .map(o => o.value),
            secret: document.getElementById('field-state_secret').checked,
            name: document.getElementById('field-name').value})""")
        assert values["kind"] == "chuyen_nganh" and len(values["sector"]) == 1, values
        assert values["secret"] is False
        # the URL name made from the title: Vietnamese letters without their
        # marks (assets/js/slug.js; CKAN's script alone gave "tru-ng-h-c-…")
        assert values["name"] == "truong-hoc-ngoai-cong-lap-tinh-binh-phuoc", values

        with page.expect_navigation():
            page.keyboard.press("Enter")  # on "Tiếp theo: Thêm dữ liệu"
        assert page.url.endswith(f"/dataset/{values['name']}/resource/new"), (
            page.url, page.locator(".error-explanation, .alert-danger").all_inner_texts())
        _keyboard_resource_stage(page)
        assert not csp, "refused by the Content-Security-Policy:\n" + "\n".join(csp)
        assert page.url.endswith(f"/dataset/{values['name']}"), page.url
    finally:
        ctx.close()

    pkg = helpers.call_action("package_show", id=values["name"])
    assert pkg["title"] == TYPED["field-title"]
    assert pkg["state"] == "active"
    assert pkg["data_kind"] == "chuyen_nganh" and len(pkg["sector"]) == 1
    assert pkg["focal_point_email"] == TYPED["field-focal_point_email"]
    assert pkg["code_lists_used"] == [TYPED["code_lists_used"]]
    assert [r["url"] for r in pkg["resources"]] == ["https://example.com/truong-tu-thuc.csv"]


def _keyboard_resource_stage(page) -> None:
    """The resource stage: the "Liên kết" (link) choice with Enter, the URL and
    the name typed, Enter on "Hoàn thành"."""
    stops = _tab_to(page, "resource-link-button")
    page.keyboard.press("Enter")
    url = page.evaluate(FOCUSED)
    assert url["field"] == "field-resource-url", f"Enter on Liên kết left the focus on {url}"
    page.keyboard.type("https://example.com/truong-tu-thuc.csv")
    stops += [url] + _tab_to(page, "field-name")
    page.keyboard.press("Control+A")
    page.keyboard.type("Danh sách trường tư thục")
    stops += _tab_to(page, "save", value="go-metadata")
    assert not _no_focus_ring(stops), f"no visible focus on: {_no_focus_ring(stops)}"
    with page.expect_navigation():
        page.keyboard.press("Enter")

