"""Sign-in brute-force protection: exponential back-off per account and per client address.
Call `check(account, ip)` before verifying a password, then `record_failure` or `record_success` (docs/security.md)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pinhole.errors import LoginThrottled
from pinhole.observability.telemetry import record_failed_credentials, record_signin_backoff
from pinhole.security.ratelimit import ExpiringMap, address_key

Clock = Callable[[], float]
PENDING_TTL = 60.0  # an attempt never resolved stops counting as in flight this long after the key's last attempt
_PENDING = ":pending"


@dataclass(frozen=True, kw_only=True)
class BackoffPolicy:
    """`threshold` failures are free; then wait `base_delay`, doubling per failure, at most `max_delay` seconds."""

    threshold: int = 5
    base_delay: float = 1.0
    max_delay: float = 900.0

    def delay(self, failures: int) -> float:
        """Seconds to wait after the last of `failures` failures."""
        if failures < self.threshold:
            return 0.0
        return min(self.max_delay, self.base_delay * 2.0 ** min(failures - self.threshold, 64))


@dataclass(frozen=True)
class Attempts:
    count: int
    last_at: float


class AttemptStore(Protocol):
    """Expiring counters. Each call must be atomic on its own (a Redis store: one script or MULTI per call)."""

    async def get(self, key: str, *, now: float) -> Attempts | None: ...

    async def add(self, key: str, *, now: float, ttl: float) -> Attempts:
        """Count one more, last at `now`; keep the key until `ttl` seconds from now; return the new state."""
        ...

    async def refund(self, key: str, *, now: float) -> None:
        """Count one fewer (never below zero), leaving the last time and the expiry as they are."""
        ...

    async def clear(self, key: str) -> None: ...


class MemoryAttemptStore:
    """One process's counters; safe across tasks and threads. Counters are lost on restart."""

    def __init__(self, *, max_keys: int = 100_000, sweep_every: float = 60.0) -> None:
        self._entries: ExpiringMap[Attempts] = ExpiringMap(max_keys=max_keys, sweep_every=sweep_every)
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """Keys held, live or awaiting the sweep (a property, not `len`, so an empty store is still truthy)."""
        return len(self._entries)

    async def get(self, key: str, *, now: float) -> Attempts | None:
        with self._lock:
            return self._entries.get(key, now=now)

    async def add(self, key: str, *, now: float, ttl: float) -> Attempts:
        with self._lock:
            current = self._entries.get(key, now=now)
            attempts = Attempts((current.count if current else 0) + 1, now)
            self._entries.put(key, attempts, expires_at=now + ttl, now=now)
            return attempts

    async def refund(self, key: str, *, now: float) -> None:
        with self._lock:
            current = self._entries.get(key, now=now)
            if current is not None and current.count <= 1:
                self._entries.pop(key)
            elif current is not None:
                self._entries.replace(key, Attempts(current.count - 1, current.last_at))

    async def clear(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key)


@dataclass(frozen=True)
class _Counter:
    key: str
    policy: BackoffPolicy


class LoginBackoff:
    """Decides whether a sign-in attempt may be verified now, and records how it went."""

    def __init__(
        self,
        store: AttemptStore,
        *,
        account_policy: BackoffPolicy = BackoffPolicy(),
        address_policy: BackoffPolicy = BackoffPolicy(threshold=20),
        forget_after: float = 24 * 3600.0,
        trust_for: float = 30 * 24 * 3600.0,
        clock: Clock = time.time,
    ) -> None:
        if forget_after < max(account_policy.max_delay, address_policy.max_delay):
            raise ValueError("forget_after must be at least the longest back-off")
        self._store = store
        self._account_policy = account_policy
        self._address_policy = address_policy
        self._forget_after = forget_after
        self._trust_for = trust_for
        self._clock = clock

    async def check(self, account: str, ip: str) -> None:
        """Raise LoginThrottled (with `retry_after`) when the account or address must wait; else count it in flight."""
        now = self._clock()
        counters = await self._counters(account, ip, now)
        wait = max([await self._reserve(counter, now) for counter in counters])
        if wait > 0:
            await self._release(counters, now)
            record_signin_backoff()
            raise LoginThrottled(retry_after=max(1, math.ceil(wait)))

    async def record_failure(self, account: str, ip: str) -> None:
        """Count a wrong password against the address and (unless it is trusted for it) the account."""
        record_failed_credentials("wrong_password")
        now = self._clock()
        for counter in await self._counters(account, ip, now):
            # Failure first, then out of flight: a concurrent check always sees this attempt in one or the other.
            await self._store.add(counter.key, now=now, ttl=self._forget_after)
            await self._store.refund(counter.key + _PENDING, now=now)

    async def record_success(self, account: str, ip: str) -> None:
        """Forget the account's failures and trust this address for it; the address's own count stays."""
        now = self._clock()
        await self._release(await self._counters(account, ip, now), now)
        await self._store.clear(_account_key(account))
        await self._store.add(_trust_key(account, ip), now=now, ttl=self._trust_for)

    async def _counters(self, account: str, ip: str, now: float) -> list[_Counter]:
        counters = [_Counter(f"login:{address_key(ip)}", self._address_policy)]
        if await self._store.get(_trust_key(account, ip), now=now) is None:
            counters.append(_Counter(_account_key(account), self._account_policy))
        return counters

    async def _reserve(self, counter: _Counter, now: float) -> float:
        """Put this attempt in flight, then return what it must wait for past failures and for attempts ahead."""
        pending = await self._store.add(counter.key + _PENDING, now=now, ttl=PENDING_TTL)
        failed = await self._store.get(counter.key, now=now)
        since_last = 0.0 if failed is None else failed.last_at + counter.policy.delay(failed.count) - now
        ahead = 0.0 if pending.count == 1 else counter.policy.delay((failed.count if failed else 0) + pending.count - 1)
        return max(since_last, ahead)

    async def _release(self, counters: list[_Counter], now: float) -> None:
        for counter in counters:
            await self._store.refund(counter.key + _PENDING, now=now)


def _account_key(account: str) -> str:
    return f"login:account:{account.strip().casefold()}"


def _trust_key(account: str, ip: str) -> str:
    return f"login:trust:{account.strip().casefold()}|{address_key(ip)}"
