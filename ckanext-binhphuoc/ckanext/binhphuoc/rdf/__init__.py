"""The catalog as linked data (issue 18): the bundle's DCAT-AP 3 and schema.org
profiles for ckanext-dcat, the code lists as SKOS at stable URLs, and the
paged catalog endpoints. Plugin ``binhphuoc_dcat`` (plugin.py)."""
