"""DataStore tables below the harvesters and the workflow (issue 13).

Imports neither :mod:`ckanext.binhphuoc.harvest` nor
:mod:`ckanext.binhphuoc.workflow`; both import from here:

- :mod:`.db`: the DataStore's write engine, quoting and catalogue queries;
- :mod:`.locks`: the per-resource load lock (a PostgreSQL advisory lock);
- :mod:`.staging`: staged tables (refreshes held for review) and the swap
  that replaces a live table;
- :mod:`.active`: ``datastore_active`` and the default views of resources
  that have a DataStore table;
- :mod:`.cli`: ``ckan binhphuoc datastore repair``.
"""
