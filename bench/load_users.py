"""The users of the load bench (bench/load.py), for locust in var/bench-venv.

Not run by hand: bench/load.py writes the plan (dataset names, resource ids,
publisher tokens) to the JSON file named by $LOAD_PLAN and starts
``locust -f bench/load_users.py`` with it. Each request is named by its type
("search: free text", "datastore_search"...), which is how locust groups the
figures.
"""
from __future__ import annotations

import itertools
import json
import os
import random

from locust import FastHttpUser, between, task

with open(os.environ["LOAD_PLAN"], encoding="utf-8") as _f:
    PLAN = json.load(_f)

WORDS = ["dân số", "y tế", "trường học", "Đồng Xoài", "tiêm chủng", "ngân sách",
         "giáo dục", "bệnh viện", "môi trường", "đất đai", "dan so", "truong hoc",
         "Bình Long", "du lịch", "nông nghiệp", "cao su", "giao thông", "hộ nghèo"]
FORMATS = ["CSV", "XLSX", "JSON", "PDF", "GeoJSON"]
_SLOTS = itertools.count()
THINK = (float(os.environ.get("LOAD_THINK_MIN", "1")), float(os.environ.get("LOAD_THINK_MAX", "5")))


class Anonymous(FastHttpUser):
    """A visitor without an account: searches, reads, downloads, queries."""

    weight = int(os.environ.get("LOAD_ANON_WEIGHT", "10"))
    wait_time = between(*THINK)

    @task(3)
    def search_text(self) -> None:
        self.client.get("/dataset/", params={"q": random.choice(WORDS)},
                        name="search: free text (/dataset/?q=)")

    @task(2)
    def search_facets(self) -> None:
        params = {"q": random.choice(WORDS + [""]),
                  "organization": random.choice(PLAN["organizations"])}
        if random.random() < 0.5:
            params["res_format"] = random.choice(FORMATS)
        self.client.get("/dataset/", params=params, name="search: facets (/dataset/?organization=)")

    @task(1)
    def search_api(self) -> None:
        fq = f'organization:"{random.choice(PLAN["organizations"])}"'
        self.client.get("/api/3/action/package_search",
                        params={"q": random.choice(WORDS), "fq": fq, "rows": 20,
                                "facet.field": '["organization","tags","res_format","license_id"]'},
                        name="api: package_search q+fq+facets")

    @task(3)
    def dataset_page(self) -> None:
        self.client.get(f"/dataset/{random.choice(PLAN['datasets'])}", name="dataset page")

    @task(1)
    def resource_page(self) -> None:
        res = random.choice(PLAN["resources"])
        self.client.get(f"/dataset/{res['package']}/resource/{res['id']}", name="resource page")

    @task(2)
    def download(self) -> None:
        self.client.get(random.choice(PLAN["downloads"]), name="download (uploaded file)")

    @task(2)
    def datastore_search(self) -> None:
        res = random.choice(PLAN["datastore"])
        params = {"resource_id": res, "limit": 50, "offset": random.choice([0, 0, 50])}
        if random.random() < 0.5:
            params["q"] = random.choice(WORDS)
        self.client.get("/api/3/action/datastore_search", params=params, name="datastore_search")

    @task(1)
    def home(self) -> None:
        self.client.get("/", name="home page")


class Publisher(FastHttpUser):
    """An agency publisher with an API token editing its own draft dataset."""

    weight = int(os.environ.get("LOAD_PUB_WEIGHT", "1"))
    fixed_count = int(os.environ.get("LOAD_PUBLISHERS", "5"))
    wait_time = between(2, 6)

    def on_start(self) -> None:
        pubs = PLAN["publishers"]  # one account per publisher user
        self.me = pubs[next(_SLOTS) % len(pubs)]
        self.headers = {"Authorization": self.me["token"]}
        self.edits = 0

    def _post(self, action: str, data: dict, name: str) -> None:
        self.client.post(f"/api/3/action/{action}", json=data, headers=self.headers, name=name)

    @task(3)
    def patch(self) -> None:
        self.edits += 1
        self._post("package_patch", {"id": self.me["dataset"],
                                     "notes": f"Cập nhật lần {self.edits} (bench/load.py)"},
                   "publisher: package_patch")

    @task(1)
    def add_resource(self) -> None:
        self._post("resource_create", {"package_id": self.me["dataset"],
                                       "name": f"Phụ lục {self.edits}",
                                       "url": "https://example.gov.vn/phu-luc.pdf",
                                       "format": "PDF"},
                   "publisher: resource_create")

    @task(2)
    def show(self) -> None:
        self.client.get("/api/3/action/package_show", params={"id": self.me["dataset"]},
                        headers=self.headers, name="publisher: package_show")
