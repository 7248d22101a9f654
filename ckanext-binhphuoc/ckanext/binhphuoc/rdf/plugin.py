"""binhphuoc_dcat: the catalog as linked data (issue 18).

Listed after ckanext-dcat's ``dcat`` plugin. The RDF profiles themselves are
registered as ckanext-dcat profiles (entry points ``ckan.rdf.profiles`` in
setup.py) and chosen by ``ckanext.dcat.rdf.profiles``.
"""
from __future__ import annotations

import ckan.plugins as p


class RdfPlugin(p.SingletonPlugin):
    """The bundle's linked-data endpoints and profiles."""
