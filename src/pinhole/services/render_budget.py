"""The render budget: how many cold renders (variants not made before) a caller who is not the image's owner may
cause per address and minute. Warm answers never count. Refusals are `RateLimited` (429 + Retry-After), which every
API renders in its own error shape (docs/transforms.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from pinhole.errors import RateLimited
from pinhole.security.ratelimit import Clock, RateLimit, RateLimitStore, decide, rate_limit_headers


@dataclass
class RenderBudget:
    store: RateLimitStore
    limit: RateLimit
    clock: Clock = field(default=time.time)

    async def charge(self, caller: str) -> None:
        """Count one cold render for `caller` (an address key); raise RateLimited when the budget is spent."""
        now = self.clock()
        window = await self.store.hit(f"renders:{caller}", window_seconds=self.limit.window_seconds, now=now)
        decision = decide(self.limit, window, now)
        if not decision.allowed:
            raise RateLimited(
                "Too many new renders from this address; retry later.",
                retry_after=decision.retry_after,
                headers=rate_limit_headers(decision),
            )
