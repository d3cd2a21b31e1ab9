"""Rate limiting per caller key (`apikey:<id>`, `user:<id>`, `ip:<address>`) in fixed windows, with rules per
API and route and per-client overrides (docs/security.md, "Rate limits"; docs/admin.md, "Clients")."""

from __future__ import annotations

import ipaddress
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from pinhole.errors import RateLimited

Clock = Callable[[], float]
V = TypeVar("V")

_SECONDS = {
    **dict.fromkeys(["s", "sec", "secs", "second", "seconds"], 1),
    **dict.fromkeys(["m", "min", "mins", "minute", "minutes"], 60),
    **dict.fromkeys(["h", "hour", "hours"], 3600),
    **dict.fromkeys(["d", "day", "days"], 86400),
}
OVERRIDE_TTL = 10.0
_LIMIT = re.compile(r"\s*([0-9]+)\s*/\s*([0-9]*)\s*([a-zA-Z]+)\s*")


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` hits per `window_seconds`."""

    limit: int
    window_seconds: int

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window_seconds < 1:
            raise ValueError("a rate limit needs at least 1 hit per at least 1 second")

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """`10/minute`, `100/hour`, `5/10s`, `1000/day`; raises ValueError (settings report it by variable)."""
        match = _LIMIT.fullmatch(text)
        unit = _SECONDS.get(match.group(3).lower()) if match else None
        if match is None or unit is None:
            raise ValueError(f"rate limit {text!r} is not like '10/minute', '100/hour' or '5/10s'")
        count, multiple, _ = match.groups()
        return cls(int(count), int(multiple or 1) * unit)

    def __str__(self) -> str:
        return f"{self.limit}/{self.window_seconds}s"


class RateLimitRules:
    """Limits by scope: `v2` covers a whole API, `v2.upload` one route, `*` everything else.

    The most specific rule applies, and its counter is shared by every route it covers.
    """

    def __init__(self, rules: Mapping[str, RateLimit | None]) -> None:
        self._rules = dict(rules)

    @classmethod
    def parse(cls, raw: Mapping[str, str]) -> RateLimitRules:
        """`off` (or `unlimited`) exempts a scope from a broader rule."""
        rules: dict[str, RateLimit | None] = {}
        for scope, text in raw.items():
            if text.strip().lower() in ("off", "unlimited"):
                rules[scope] = None
                continue
            try:
                rules[scope] = RateLimit.parse(text)
            except ValueError as exc:
                raise ValueError(f"{scope}: {exc}") from None
        return cls(rules)

    def merged(self, overrides: RateLimitRules) -> RateLimitRules:
        """These rules with `overrides`' scopes replacing (or adding to) the same scopes."""
        return RateLimitRules({**self._rules, **overrides._rules})

    def lookup(self, route: str) -> tuple[str, RateLimit] | None:
        """The scope and limit that apply to `route`, or None when it is unlimited."""
        parts = route.split(".")
        for scope in [".".join(parts[:n]) for n in range(len(parts), 0, -1)] + ["*"]:
            if scope in self._rules:
                limit = self._rules[scope]
                return None if limit is None else (scope, limit)
        return None


def address_key(ip: str) -> str:
    """The key for a client address: IPv4 as is, IPv6 by its /64 (one subscriber usually holds a whole /64)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return f"ip:{ip}"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"ip:{address.ipv4_mapped}"
        return f"ip:{ipaddress.ip_network(f'{address}/64', strict=False)}"
    return f"ip:{address}"


@dataclass(frozen=True)
class Window:
    """A key's current window: hits counted so far and when it ends (epoch seconds)."""

    count: int
    reset_at: float


class RateLimitStore(Protocol):
    async def hit(self, key: str, *, window_seconds: float, now: float) -> Window:
        """Count one hit on `key` atomically; a new window opens at the first hit after the last one ended."""
        ...

    async def peek(self, key: str, *, now: float) -> Window | None:
        """The current window of `key` without counting a hit (a plain `GET` in Redis); None when none is open."""
        ...


class ExpiringMap(Generic[V]):
    """A dict whose entries expire: a sweep at most every `sweep_every` seconds drops expired ones, and past
    `max_keys` the entry written longest ago is evicted. Not locked; the in-memory stores lock around it."""

    def __init__(self, *, max_keys: int = 100_000, sweep_every: float = 60.0) -> None:
        self._entries: dict[str, tuple[V, float]] = {}
        self._max_keys = max_keys
        self._sweep_every = sweep_every
        self._next_sweep = -math.inf

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str, *, now: float) -> V | None:
        entry = self._entries.get(key)
        return entry[0] if entry is not None and now < entry[1] else None

    def put(self, key: str, value: V, *, expires_at: float, now: float) -> None:
        """Store `value` as the newest entry."""
        self._sweep(now)
        self._entries.pop(key, None)
        while len(self._entries) >= self._max_keys:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (value, expires_at)

    def replace(self, key: str, value: V) -> None:
        """Change a value, keeping its expiry and age; nothing when absent."""
        if key in self._entries:
            self._entries[key] = (value, self._entries[key][1])

    def pop(self, key: str) -> None:
        self._entries.pop(key, None)

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._entries = {key: entry for key, entry in self._entries.items() if now < entry[1]}
        self._next_sweep = now + self._sweep_every


class MemoryRateLimitStore:
    """One process's counters; safe across tasks and threads. Counters are lost on restart."""

    def __init__(self, *, max_keys: int = 100_000, sweep_every: float = 60.0) -> None:
        self._windows: ExpiringMap[Window] = ExpiringMap(max_keys=max_keys, sweep_every=sweep_every)
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """Keys held, live or awaiting the sweep (a property, not `len`, so an empty store is still truthy)."""
        return len(self._windows)

    async def hit(self, key: str, *, window_seconds: float, now: float) -> Window:
        with self._lock:
            current = self._windows.get(key, now=now)
            if current is None:
                current = Window(1, now + window_seconds)
                self._windows.put(key, current, expires_at=current.reset_at, now=now)
                return current
            current = Window(current.count + 1, current.reset_at)
            self._windows.replace(key, current)
            return current

    async def peek(self, key: str, *, now: float) -> Window | None:
        with self._lock:
            return self._windows.get(key, now=now)


@dataclass(frozen=True)
class RateLimitDecision:
    """Whether one hit is allowed; `reset` is when the window ends (epoch seconds), `retry_after` is 0 if allowed."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int


def decide(limit: RateLimit, window: Window, now: float) -> RateLimitDecision:
    allowed = window.count <= limit.limit
    return RateLimitDecision(
        allowed=allowed,
        limit=limit.limit,
        remaining=max(0, limit.limit - window.count),
        reset=math.ceil(window.reset_at),
        retry_after=0 if allowed else max(1, math.ceil(window.reset_at - now)),
    )


def rate_limit_headers(decision: RateLimitDecision) -> dict[str, str]:
    """The `X-RateLimit-*` headers for any response, plus `Retry-After` when the hit was refused."""
    headers = {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": str(decision.reset),
    }
    if not decision.allowed:
        headers["Retry-After"] = str(decision.retry_after)
    return headers


class RateLimiter:
    """Counts hits per (scope, caller key) in a store and decides against the rules."""

    def __init__(self, store: RateLimitStore, rules: RateLimitRules, *, clock: Clock = time.time) -> None:
        self._store = store
        self._rules = rules
        self._clock = clock
        self._own_rules: ExpiringMap[RateLimitRules] = ExpiringMap(max_keys=10_000)
        self._own_lock = threading.Lock()

    def cached_rules(self, owner: str) -> RateLimitRules | None:
        """The merged rules last set for `owner` (a client id) in the past `OVERRIDE_TTL` seconds, if any."""
        with self._own_lock:
            return self._own_rules.get(owner, now=self._clock())

    def set_own_rules(self, owner: str, raw: Mapping[str, str] | None) -> RateLimitRules:
        """Remember `owner`'s own rules (None: it has none) merged over the settings' rules; returns the merge."""
        merged = self._rules.merged(RateLimitRules.parse(raw)) if raw else self._rules
        now = self._clock()
        with self._own_lock:
            self._own_rules.put(owner, merged, expires_at=now + OVERRIDE_TTL, now=now)
        return merged

    def forget_own_rules(self, owner: str) -> None:
        with self._own_lock:
            self._own_rules.pop(owner)

    def limits(self, route: str) -> bool:
        """Whether a rule limits `route` (lets a caller skip work, such as finding the address, when none does)."""
        return self._rules.lookup(route) is not None

    async def hit(self, key: str, *, route: str, rules: RateLimitRules | None = None) -> RateLimitDecision | None:
        """Count one hit by `key` on `route` (under `rules`, default the settings'); None when no rule limits it."""
        found = (rules or self._rules).lookup(route)
        if found is None:
            return None
        scope, limit = found
        now = self._clock()
        window = await self._store.hit(f"rl:{scope}:{key}", window_seconds=limit.window_seconds, now=now)
        return decide(limit, window, now)

    async def refusal(self, key: str, *, route: str) -> RateLimitDecision | None:
        """Without counting: the refused decision `key`'s next hit on `route` would get, or None if it would pass."""
        found = self._rules.lookup(route)
        if found is None:
            return None
        scope, limit = found
        now = self._clock()
        window = await self._store.peek(f"rl:{scope}:{key}", now=now)
        if window is None or window.count < limit.limit:
            return None
        return decide(limit, Window(window.count + 1, window.reset_at), now)

    async def enforce(self, key: str, *, route: str) -> RateLimitDecision | None:
        """As `hit`, but raise RateLimited (carrying the headers) when the hit is refused."""
        decision = await self.hit(key, route=route)
        if decision is not None and not decision.allowed:
            raise RateLimited(retry_after=decision.retry_after, headers=rate_limit_headers(decision))
        return decision
