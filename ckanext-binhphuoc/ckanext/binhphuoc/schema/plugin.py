"""binhphuoc_schema: Vietnamese dataset/resource/agency/topic schemas (with
ckanext-scheming), code lists, validators, facets, citation, SHA-256 of
uploads, typed columns of uploaded tables (with ckanext-xloader) and the
duplicate check. Load it BEFORE scheming_datasets in ``ckan.plugins`` so its
templates come first."""
from __future__ import annotations

import logging
import os
from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.lib.plugins import DefaultTranslation

from . import actions, auth, cli, helpers, indexing, validators, views

try:
    from ckanext.xloader.interfaces import IXloader
except ImportError:  # a site without ckanext-xloader
    IXloader = None

log = logging.getLogger(__name__)
PACKAGE_DIR = os.path.dirname(os.path.dirname(__file__))
#: Options of the home page a sysadmin edits at /ckan-admin/config.
HOME_OPTIONS = ("ckanext.binhphuoc.home.intro", "ckanext.binhphuoc.home.featured")


@tk.blanket.config_declarations
@tk.blanket.validators(validators.get_validators)
@tk.blanket.helpers(helpers.get_helpers)
@tk.blanket.actions(actions.get_actions)
@tk.blanket.auth_functions(auth.get_auth_functions)
@tk.blanket.blueprints(views.get_blueprints)
@tk.blanket.cli(cli.get_commands)
class SchemaPlugin(p.SingletonPlugin, DefaultTranslation):
    p.implements(p.IConfigurer)
    p.implements(p.IFacets, inherit=True)
    p.implements(p.IPackageController, inherit=True)
    p.implements(p.IUploader, inherit=True)
    p.implements(p.IResourceController, inherit=True)
    p.implements(p.ITranslation)
    p.implements(p.IMiddleware, inherit=True)
    if IXloader is not None:
        p.implements(IXloader, inherit=True)

    # IConfigurer
    def update_config(self, config: Any) -> None:
        from ckanext.binhphuoc import config as options

        options.add_templates(config, own=True)
        tk.add_public_directory(config, os.path.join(PACKAGE_DIR, "public"))
        # Avatars: CKAN's local placeholder, never a request to gravatar.com
        # (BP §6.6: no page depends on a host outside the data centre).
        config["ckan.gravatar_default"] = "disabled"
        # The licence list (R10) ships with the code lists unless the site
        # names its own.
        if not options.licenses_group_url():
            from ckanext.binhphuoc import codelists
            config["licenses_group_url"] = "file://" + codelists.licenses_path()
        # The province profile names the portal unless the site does.
        from ckanext.binhphuoc.profile import get_profile
        profile = get_profile()
        if options.site_title() in ("", "CKAN"):
            config["ckan.site_title"] = profile.text("portal_title", "vi")
        if not options.site_description():
            config["ckan.site_description"] = "Dữ liệu mở của các cơ quan nhà nước tỉnh " + \
                profile.text("province_name", "vi")
        # CKAN caches the licence register on first use; a register read
        # before this plugin was loaded would miss the province's licences.
        from ckan import model
        if "_license_register" in vars(model.Package):
            del model.Package._license_register

    def update_config_schema(self, schema: Any) -> Any:
        """The home page's texts, editable by sysadmins at /ckan-admin/config."""
        ignore_missing = tk.get_validator("ignore_missing")
        unicode_safe = tk.get_validator("unicode_safe")
        for key in HOME_OPTIONS:
            schema[key] = [ignore_missing, unicode_safe]
        return schema

    # IMiddleware: downloads and API calls are counted (usage.py)
    def make_middleware(self, app: Any, config: Any) -> Any:
        if hasattr(app, "after_request"):
            from . import usage

            usage.register(app)
        return app

    # ITranslation: one catalog for the whole bundle
    def i18n_directory(self) -> str:
        return os.path.join(PACKAGE_DIR, "i18n")

    def i18n_domain(self) -> str:
        return "ckanext-binhphuoc"

    def i18n_locales(self) -> list[str]:
        return ["vi"]


    # IFacets
    def dataset_facets(self, facets_dict: Any, package_type: str) -> Any:
        return indexing.facets(facets_dict)

    # IPackageController
    def before_dataset_index(self, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        return indexing.before_dataset_index(pkg_dict)

    def after_dataset_show(self, context: Any, pkg_dict: dict[str, Any]) -> dict[str, Any]:
        from . import duplicates

        if duplicates.FIELD in pkg_dict or not context.get("ignore_auth"):
            shown = duplicates.shown(context, pkg_dict)
            if shown is None or (not shown and duplicates.FIELD not in pkg_dict):
                pkg_dict.pop(duplicates.FIELD, None)
            else:
                pkg_dict[duplicates.FIELD] = shown
        return pkg_dict

    def after_dataset_search(self, search_results: dict[str, Any],
                             search_params: dict[str, Any]) -> dict[str, Any]:
        return indexing.after_dataset_search(search_results)

    # IXloader: an uploaded table's columns get number/date types
    def after_upload(self, context: Any, resource_dict: dict[str, Any],
                     dataset_dict: dict[str, Any]) -> None:
        from . import uploads

        try:
            uploads.type_columns(resource_dict["id"])
        except Exception:  # the data is loaded (as text): never fail the load
            log.exception("typed upload: %s keeps its text columns", resource_dict["id"])

    # IUploader: uploaded files are checked for size and hashed while they
    # are copied into storage (storage.py)
    def get_resource_uploader(self, data_dict: dict[str, Any]) -> Any:
        from . import storage

        return storage.ResourceStorage(data_dict)

    def get_uploader(self, upload_to: str, old_filename: str | None) -> None:
        return None  # images: CKAN's own

    # IResourceController: SHA-256 of uploaded files (R30)
    def before_resource_create(self, context: Any, resource: dict[str, Any]) -> None:
        _new_upload(resource)

    def before_resource_update(self, context: Any, current: dict[str, Any],
                               resource: dict[str, Any]) -> None:
        if not _new_upload(resource):
            if (current.get("url_type") == "upload"
                    and resource.get("url_type", "upload") == "upload"
                    and not resource.get("clear_upload")):
                # the file did not change: nobody may rewrite its checksum
                if current.get("sha256"):
                    resource["sha256"] = current["sha256"]
                else:
                    resource.pop("sha256", None)
            elif resource.get("url_type") != "upload" and current.get("url_type") == "upload":
                resource.pop("sha256", None)


def _new_upload(resource: dict[str, Any]) -> bool:
    """True if the resource comes with a new file: its sha256 is then the one
    the uploader computes while storing it (storage.py), never the caller's."""
    from werkzeug.datastructures import FileStorage

    if isinstance(resource.get("upload"), FileStorage):
        resource.pop("sha256", None)
        return True
    return False
