"""The province profile sets the portal's name, its units offered first and the
citation (issue 3, item 3)."""
from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from .conftest import schema_marks

pytestmark = schema_marks()


@pytest.mark.ckan_config("ckanext.binhphuoc.profile", "tayninh")
def test_tayninh_profile(call, dataset_dict, app, sysadmin):
    from ckan.tests import factories

    call("package_create", **dataset_dict(name="tn", spatial_coverage=["80"]))
    page = BeautifulSoup(app.get("/vi/dataset/tn").body, "html.parser")
    assert "Cổng dữ liệu mở tỉnh Tây Ninh" in page.select_one("#binhphuoc-citation").text
    token = factories.APIToken(user=sysadmin["name"])["token"]
    form = BeautifulSoup(app.get("/vi/dataset/new", headers={"Authorization": token}).body,
                         "html.parser")
    values = [o["value"] for o in form.select("#field-spatial_coverage option")]
    assert values[0] == "80"                       # the profile's province first
    assert "legacy:72" in values and "legacy:80" in values   # its former provinces
    assert values.index("legacy:72") < values.index("01")    # before other provinces
    # (scheming writes <option .../>label</option>: the label follows the tag)
    assert str(form.select_one("#field-spatial_coverage option").next_sibling).strip() \
        == "Tỉnh Tây Ninh"


def test_default_profile_is_binhphuoc(call, dataset_dict, app, sysadmin):
    from ckan.tests import factories

    token = factories.APIToken(user=sysadmin["name"])["token"]
    form = BeautifulSoup(app.get("/vi/dataset/new", headers={"Authorization": token}).body,
                         "html.parser")
    values = [o["value"] for o in form.select("#field-spatial_coverage option")]
    assert values[0] == "75" and "legacy:70" in values


def test_unknown_profile_is_a_clear_error():
    from ckanext.binhphuoc.profile import get_profile

    with pytest.raises(ValueError, match="binhphuoc"):
        get_profile("khong-co")
