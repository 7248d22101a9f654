"""binhphuoc_pgsearch: CKAN's search served by PostgreSQL, without Solr."""
from __future__ import annotations

import ckan.plugins as p

from . import install


class PgSearchPlugin(p.SingletonPlugin):
    p.implements(p.IConfigurer)

    def update_config(self, config):
        # Runs before CKAN initialises its search settings and checks the
        # Solr schema, so both go through the PostgreSQL transport.
        install.install()
