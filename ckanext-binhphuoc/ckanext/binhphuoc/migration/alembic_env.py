"""The Alembic environment shared by the bundle's plugins.

Each ``migration/<plugin>/env.py`` calls :func:`run`. CKAN's
``db upgrade -p PLUGIN`` fills in ``sqlalchemy.url``; each plugin keeps its own
version table ``<plugin>_alembic_version``.
"""
from __future__ import annotations

import os

from alembic import context
from sqlalchemy import engine_from_config, pool


def run(env_file: str) -> None:
    """Run the migrations of the plugin whose env.py is ``env_file``."""
    config = context.config
    plugin = os.path.basename(os.path.dirname(os.path.abspath(env_file)))
    version_table = f"{plugin}_alembic_version"
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"),
                          literal_binds=True, version_table=version_table)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section),
                                prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, version_table=version_table)
        with context.begin_transaction():
            context.run_migrations()
