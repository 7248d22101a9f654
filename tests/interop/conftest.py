"""Fixtures of the tests between two portals: ``bundle_portal(name)``
(tests/interop/portals.py)."""
from __future__ import annotations

import pytest

from tests import servers

from .portals import BundlePortal


@pytest.fixture(scope="module")
def bundle_portal(tmp_path_factory):
    """``bundle_portal(name)``: a running whole-bundle portal of its own
    (databases, storage, port), set up on the first call for ``name`` and
    reused by later calls in the module; stopped by PID and its databases
    dropped at the end of the module."""
    import sqlalchemy as sa

    admin = sa.create_engine(servers.PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    portals: dict[str, BundlePortal] = {}

    def make(name: str) -> BundlePortal:
        if name not in portals:
            portal = BundlePortal(name, tmp_path_factory.mktemp("portal-" + name), admin)
            portals[name] = portal
            portal.set_up()
        return portals[name]

    try:
        yield make
    finally:
        for portal in portals.values():
            portal.tear_down()
        admin.dispose()
