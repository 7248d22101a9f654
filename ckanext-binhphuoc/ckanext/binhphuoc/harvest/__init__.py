"""Harvesters of agency databases and APIs, declarative sources, schedules (issue 5).

Plugins: binhphuoc_sql_harvester (source type ``sql_database``),
binhphuoc_rest_harvester (``rest_api``) — ckanext-harvest IHarvester
plugins — and binhphuoc_harvest (declarative sources in harvesters/*.yaml,
``ckan binhphuoc harvest sync``, the scheduler). Shared: loader.py loads rows
into the DataStore (COPY into a fresh table, swapped in atomically).
"""
