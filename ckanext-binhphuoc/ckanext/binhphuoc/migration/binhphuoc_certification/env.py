"""Alembic environment of this plugin: the bundle's shared one."""
from ckanext.binhphuoc.migration.alembic_env import run

run(__file__)
