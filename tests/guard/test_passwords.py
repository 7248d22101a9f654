"""Password policy of local accounts (guard/passwords.py, issue 21 item 5):
user_create, user_update and the password reset refuse a weak password with
a field-keyed error in Vietnamese, and take a strong one."""
from __future__ import annotations

import re
import unicodedata

import pytest
from ckan.tests import factories, helpers

from tests.workflow.conftest import WORKFLOW_PLUGINS

pytestmark = [
    pytest.mark.ckan_config("ckan.plugins", WORKFLOW_PLUGINS),
    pytest.mark.ckan_config("ckan.locale_default", "vi"),
    pytest.mark.ckan_config("ckanext.binhphuoc.password.min_length", "10"),
    pytest.mark.ckan_config("ckanext.binhphuoc.password.min_classes", "3"),
    pytest.mark.usefixtures("with_plugins", "clean_db"),
]

STRONG = "Mat-khau-2026"


@pytest.mark.parametrize("weak,why", [
    ("Ab-1", "ít nhất 10 ký tự"),
    ("matkhaurattdai", "ít nhất 3"),
    ("MATKHAU12345", "ít nhất 3"),
])
def test_user_create_refuses_a_weak_password(app, weak, why):
    """Over the Action API (as a sysadmin's tool would): 409, keyed by
    ``password``, in Vietnamese; no account is made."""
    token = factories.APIToken(user=factories.Sysadmin()["name"])["token"]
    res = app.post("/api/3/action/user_create", headers={"Authorization": token},
                   json={"name": "nguoi-moi", "email": "moi@example.com", "password": weak})
    assert res.status_code == 409
    errors = res.get_json()["error"]
    assert set(errors) == {"__type", "password"}, errors
    assert any(why in unicodedata.normalize("NFC", m) for m in errors["password"]), errors
    from ckan import model

    assert model.User.get("nguoi-moi") is None


def test_the_password_is_not_the_name():
    with pytest.raises(helpers.logic.ValidationError) as err:
        helpers.call_action("user_create", name="Nguoi-moi-2026",
                            email="moi@example.com", password="Nguoi-moi-2026")
    assert "password" in err.value.error_dict


def test_a_strong_password_is_taken_and_update_is_checked_too():
    user = helpers.call_action("user_create", name="nguoi-moi", email="moi@example.com",
                               password=STRONG)
    with pytest.raises(helpers.logic.ValidationError) as err:
        helpers.call_action("user_update", id=user["id"], email="moi@example.com",
                            password="ngan")
    assert list(err.value.error_dict) == ["password"]
    helpers.call_action("user_update", id=user["id"], email="moi@example.com",
                        password="Mot-mat-khau-khac-9")
    # an update that does not change the password is not checked
    helpers.call_action("user_update", id=user["id"], email="moi@example.com",
                        fullname="Người mới")


@pytest.mark.ckan_config("ckan.auth.create_user_via_web", "true")
def test_the_registration_form_shows_the_error_by_the_field(app):
    res = app.post("/user/register", data={
        "name": "nguoi-dang-ky", "fullname": "Người đăng ký", "email": "dk@example.com",
        "password1": "ngan", "password2": "ngan", "save": ""})
    body = unicodedata.normalize("NFC", res.get_data(as_text=True))
    assert res.status_code == 200
    assert re.search(r'data-field-label="[^"]*">[^<]*ít nhất 10 ký tự', body) or \
        "ít nhất 10 ký tự" in body, body[-3000:]
    from ckan import model

    assert model.User.get("nguoi-dang-ky") is None


def test_password_reset_applies_the_policy(app):
    from ckan.lib import mailer

    user = factories.User(password=STRONG)
    from ckan import model

    obj = model.User.get(user["name"])
    mailer.create_reset_key(obj)
    key = obj.reset_key
    url = f"/user/reset/{user['id']}?key={key}"
    res = app.post(url, data={"password1": "ngan-qua", "password2": "ngan-qua"})
    assert res.status_code == 200
    model.Session.expire_all()
    assert model.User.get(user["name"]).validate_password(STRONG)
