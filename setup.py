"""Cổng dữ liệu mở — CKAN extensions for Vietnamese provincial open data portals.

The distribution installs the ``ckanext.binhphuoc`` package, whose source root
is ``ckanext-binhphuoc/``.  Each capability is a separate CKAN plugin that can
be switched on in ``ckan.plugins``.
"""
from setuptools import find_namespace_packages, setup

SRC = "ckanext-binhphuoc"

setup(
    name="ckanext-binhphuoc",
    version="0.1.0",
    description="Open data portal extensions for Vietnamese provinces (CKAN 2.11)",
    license="AGPL-3.0-or-later",
    python_requires=">=3.10",
    # Map the package explicitly (not a plain src layout): setuptools then
    # installs an import finder for ``ckanext.binhphuoc`` in editable mode,
    # which works beside the other ckanext-* namespace packages.
    package_dir={
        "ckanext.binhphuoc": SRC + "/ckanext/binhphuoc",
        # Data files kept at the repository root, shipped inside the
        # distribution so that code finds them with importlib.resources.
        "ckanext.binhphuoc.schemas": "schemas",
        "ckanext.binhphuoc.profiles": "config/profiles",
    },
    packages=["ckanext.binhphuoc"] + [
        "ckanext.binhphuoc." + p
        for p in find_namespace_packages(where=SRC + "/ckanext/binhphuoc")
    ] + [
        "ckanext.binhphuoc.schemas",
        "ckanext.binhphuoc.schemas.codelists",
        "ckanext.binhphuoc.profiles",
    ],
    include_package_data=True,
    package_data={
        "": [
            "*.yaml",
            "*.json",
            "*.ini",
            "*.mako",
            "templates/**/*",
            "assets/**/*",
            "public/**/*",
            "static/**/*",
            "assets/**/*",
            "i18n/**/*",
            "migration/**/*",
        ],
        "ckanext.binhphuoc.schemas": ["*.yaml", "*.json"],
        "ckanext.binhphuoc.schemas.codelists": ["*.yaml", "*.json", "*.md"],
        "ckanext.binhphuoc.profiles": ["*.yaml"],
    },
    install_requires=[
        # The pinned stack lives in requirements/*.txt; these are the minimum
        # imports of the bundle itself.
        "luqum>=1.0",
    ],
    entry_points={
        "ckan.plugins": [
            "binhphuoc_guard = ckanext.binhphuoc.guard.plugin:GuardPlugin",
            "binhphuoc_pgsearch = ckanext.binhphuoc.pgsearch.plugin:PgSearchPlugin",
            "binhphuoc_schema = ckanext.binhphuoc.schema.plugin:SchemaPlugin",
            "binhphuoc_workflow = ckanext.binhphuoc.workflow.plugin:WorkflowPlugin",
            "binhphuoc_feedback = ckanext.binhphuoc.feedback.plugin:FeedbackPlugin",
            "binhphuoc_reports = ckanext.binhphuoc.reports.plugin:ReportsPlugin",
            "binhphuoc_audit = ckanext.binhphuoc.audit.plugin:AuditPlugin",
            "binhphuoc_certification = ckanext.binhphuoc.certification.plugin:CertificationPlugin",
            "binhphuoc_harvest = ckanext.binhphuoc.harvest.plugin:HarvestSourcesPlugin",
            "binhphuoc_sql_harvester = ckanext.binhphuoc.harvest.sql:SqlDatabaseHarvester",
            "binhphuoc_rest_harvester = ckanext.binhphuoc.harvest.rest:RestApiHarvester",
            "binhphuoc_ckan_harvester = ckanext.binhphuoc.harvest.portal:VietnamCkanHarvester",
            "binhphuoc_dcat_harvester = ckanext.binhphuoc.harvest.dcat:DcatMappingPlugin",
            "binhphuoc_dcat = ckanext.binhphuoc.rdf.plugin:RdfPlugin",
            "binhphuoc_maps = ckanext.binhphuoc.maps.plugin:MapsPlugin",
            "binhphuoc_map_view = ckanext.binhphuoc.maps.plugin:MapViewPlugin",
            "binhphuoc_points_view = ckanext.binhphuoc.maps.plugin:PointsViewPlugin",
            "binhphuoc_sso = ckanext.binhphuoc.sso.plugin:SsoPlugin",
        ],
        "ckan.rdf.profiles": [
            "binhphuoc_dcat_ap = ckanext.binhphuoc.rdf.dcat:BinhphuocDCATAPProfile",
            "binhphuoc_schemaorg = ckanext.binhphuoc.rdf.schemaorg:BinhphuocSchemaOrgProfile",
        ],
        "babel.extractors": [
            "ckan = ckan.lib.extract:extract_ckan",
        ],
    },
)
