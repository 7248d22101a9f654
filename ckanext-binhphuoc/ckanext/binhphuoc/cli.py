"""The bundle's CLI group, `ckan binhphuoc …`. Each plugin adds its commands
to this one group (and returns it from IClick), so they share one namespace:
`ckan binhphuoc checksums`, later `ckan binhphuoc harvest sync`, …"""
from __future__ import annotations

import click


@click.group(name="binhphuoc", short_help="Cổng dữ liệu mở: commands of the bundle")
def binhphuoc() -> None:
    pass
