"""Health checks of the portal image's roles (docker/compose.yaml), stdlib and
the pinned redis client only, cheap enough to run every 30 s:

    healthcheck.py web            CKAN answers /api/3/action/status_show (success: true)
    healthcheck.py worker         an RQ worker of this container is registered in Redis
                                  (RQ keeps the key alive by its heartbeat)
    healthcheck.py process WORD   PID 1 is the role's command (WORD in its command
                                  line) and Redis answers (harvest consumers, scheduler)
"""
from __future__ import annotations

import json
import os
import socket
import sys
import urllib.request


def _redis():
    import redis

    return redis.Redis.from_url(os.environ.get("CKAN_REDIS_URL") or "redis://redis:6379/0",
                                socket_timeout=5)


def web() -> bool:
    port = os.environ.get("WEB_PORT") or "8000"
    url = f"http://127.0.0.1:{port}/api/3/action/status_show"
    with urllib.request.urlopen(url, timeout=10) as r:
        return bool(json.load(r).get("success"))


def worker() -> bool:
    r = _redis()
    host = socket.gethostname().encode()
    return any(r.hget(key, "hostname") == host for key in r.smembers("rq:workers"))


def process(word: str) -> bool:
    with open("/proc/1/cmdline", "rb") as f:
        cmdline = f.read().replace(b"\0", b" ").decode()
    return word in cmdline and bool(_redis().ping())


def main(argv: list[str]) -> int:
    try:
        if argv[1] == "web":
            ok = web()
        elif argv[1] == "worker":
            ok = worker()
        else:
            ok = process(argv[2])
    except Exception as e:  # any failure is "unhealthy", with the reason in docker inspect
        print(f"unhealthy: {e}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
