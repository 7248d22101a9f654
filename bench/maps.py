#!/usr/bin/env python
"""Benchmark of the maps' server-side work (docs/maps.md).

    .venv/bin/python bench/maps.py [--runs 200]

Prints (asserts nothing; not a test):

1. the size of the shipped boundaries (bytes, gzip bytes: what a browser
   downloads once per day, /maps/boundaries.json) and their vertices;
2. the time to load and parse them once per process;
3. the time of ``provinces_in_bbox`` (the ``ext_bbox`` filter, run once per
   search) for a small rectangle (a town), a province-sized one, a region
   and the whole country: median and max over ``--runs`` calls.
"""
from __future__ import annotations

import argparse
import gzip
import statistics
import time

from ckanext.binhphuoc import codelists
from ckanext.binhphuoc.maps import boundaries

RECTANGLES = {
    "town (Đồng Xoài)": "106.85,11.5,106.95,11.6",
    "province-sized": "106.4,11.2,107.4,12.2",
    "region (south-east)": "105.5,10.0,108.0,12.5",
    "whole country": "102.0,8.0,110.0,23.5",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()

    raw = boundaries.text().encode("utf-8")
    t0 = time.perf_counter()
    data = boundaries.collection()
    load_ms = (time.perf_counter() - t0) * 1000
    vertices = sum(len(r) for f in data["features"]
                   for p in f["geometry"]["coordinates"] for r in p)
    print(f"boundaries: {len(data['features'])} features, {vertices} vertices, "
          f"{len(raw)} bytes, {len(gzip.compress(raw))} gzip bytes; "
          f"first load+parse {load_ms:.1f} ms (admin units cached: "
          f"{len(codelists.admin_units().provinces())} provinces)")
    print("| rectangle | provinces | median ms | max ms |")
    print("|---|---|---|---|")
    for label, text in RECTANGLES.items():
        box = boundaries.parse_bbox(text)
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            found = boundaries.provinces_in_bbox(box)
            times.append((time.perf_counter() - t0) * 1000)
        print(f"| {label} | {len(found)} | {statistics.median(times):.2f} | {max(times):.2f} |")


if __name__ == "__main__":
    main()
