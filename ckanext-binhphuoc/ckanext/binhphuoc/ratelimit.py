"""A small fixed-window rate limiter in Redis (issue 21, item 5): how many
times one client may do one thing (log in, send feedback, ask for access) in
a window of seconds.

A rule is ``<endpoint pattern>=<count>/<seconds>``, e.g.
``user.login=10/300``: the option ``ckanext.binhphuoc.ratelimit.rules``
(config.ratelimit_rules) lists them, the request guard (guard/security.py)
applies them to POST requests. The pattern is a Flask endpoint, ``*`` and
``?`` as in shell patterns (``binhphuoc_feedback.*``), so a part built later
is covered by adding its endpoint to the option, no code.

Counting: one Redis key per rule, client and window (``INCR``, ``EXPIRE`` on
the first hit); the key expires with its window. Redis unreachable: the
request goes on (logged) — a broken limiter must not close the portal.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import logging
import time
from typing import Any

from . import config

log = logging.getLogger(__name__)

PREFIX = "binhphuoc:ratelimit"


@dataclasses.dataclass(frozen=True)
class Rule:
    pattern: str
    count: int
    seconds: int

    def matches(self, endpoint: str) -> bool:
        return fnmatch.fnmatchcase(endpoint, self.pattern)


def rules() -> list[Rule]:
    """The configured rules (config.ratelimit_rules)."""
    return [Rule(*r) for r in config.ratelimit_rules()]


def rule_for(rules: list[Rule], endpoint: str) -> Rule | None:
    """The first rule whose pattern matches the endpoint."""
    return next((r for r in rules if r.matches(endpoint)), None)


def _redis() -> Any:
    from ckan.lib.redis import connect_to_redis

    return connect_to_redis()


def hit(rule: Rule, client: str, *, now: float | None = None,
        redis: Any = None) -> int | None:
    """Count one request of ``client`` under ``rule``: None when it is
    allowed, else the seconds until the window ends (Retry-After)."""
    now = time.time() if now is None else now
    window = int(now // rule.seconds)
    key = f"{PREFIX}:{rule.pattern}:{client}:{window}"
    try:
        conn = redis or _redis()
        pipe = conn.pipeline()
        pipe.incr(key)
        pipe.expire(key, rule.seconds + 1)
        count = int(pipe.execute()[0])
    except Exception as exc:  # Redis down: let the request through
        log.warning("rate limit not applied (%s): %s", rule.pattern, exc)
        return None
    if count <= rule.count:
        return None
    return max(1, int((window + 1) * rule.seconds - now + 0.999))


def reset(client: str | None = None, redis: Any = None) -> int:
    """Forget the counts (of one client, or all): tests, an operator
    unblocking an office behind one address. Returns the keys removed."""
    conn = redis or _redis()
    pattern = f"{PREFIX}:*:{client}:*" if client else f"{PREFIX}:*"
    keys = list(conn.scan_iter(match=pattern))
    return int(conn.delete(*keys)) if keys else 0
