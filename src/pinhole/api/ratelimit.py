"""Rate limits for any API: one router dependency counts each request, the route class adds `X-RateLimit-*`.
Who is counted under which rule, and failed credentials: docs/security.md, "Rate limits"."""

# No `from __future__ import annotations`: FastAPI must see the closures' `Depends(...)` annotations as objects,
# and names local to `rate_limits` cannot be resolved from strings.

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.params import Depends as DependsParam

from pinhole.api.answers import raises
from pinhole.api.credentials import KEY_HEADERS
from pinhole.api.deps import RuntimeDep
from pinhole.api.proxies import client_address
from pinhole.errors import InvalidApiKey, PinholeError, RateLimited
from pinhole.runtime import Runtime
from pinhole.security.principal import Principal, Via
from pinhole.security.ratelimit import (
    RateLimitDecision,
    RateLimiter,
    RateLimitRules,
    address_key,
    rate_limit_headers,
)
from pinhole.services.clients import client_rate_limits

PrincipalDependency = Callable[..., Coroutine[Any, Any, Principal]]

FAILED_AUTH_ROUTE = "auth.failed"
_STATE_KEY = "pinhole_rate_limit"


@dataclass
class Meter:
    """One request under rate limits: what the dependency learned, for the route class to finish the response."""

    api: str
    limiter: RateLimiter
    address: str  # the address key, e.g. `ip:192.0.2.7`
    authenticated: bool = False  # the principal was resolved (no credential was refused)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def failure_key(self) -> str:
        return f"failed-auth:{self.address}"

    @property
    def failure_route(self) -> str:
        return f"{self.api}.{FAILED_AUTH_ROUTE}"


def _meter(request: Request) -> Meter | None:
    meter = getattr(request.state, _STATE_KEY, None)
    return meter if isinstance(meter, Meter) else None


def _refuse(meter: Meter, decision: RateLimitDecision) -> RateLimited:
    meter.headers = rate_limit_headers(decision)
    return RateLimited(retry_after=decision.retry_after, headers=meter.headers)


def _carries_credentials(request: Request) -> bool:
    return any(name in request.headers for name in KEY_HEADERS)


def _scope(api: str, request: Request) -> str:
    """`<api>.<route name>`: mounted routes are named so already (`api.mounting`)."""
    route = request.scope.get("route")
    name = getattr(route, "name", None)
    name = name if isinstance(name, str) else request.url.path
    return name if name.startswith(f"{api}.") else f"{api}.{name}"


async def _rules_of(runtime: Runtime, limiter: RateLimiter, caller: Principal) -> RateLimitRules | None:
    """The rules a client key counts under (its own merged over the settings'); None: the settings' alone."""
    if caller.via is not Via.CLIENT_KEY or caller.client_id is None:
        return None
    cached = limiter.cached_rules(caller.client_id)
    if cached is not None:
        return cached
    own = await client_rate_limits(db=runtime.db, client_id=caller.client_id)
    return limiter.set_own_rules(caller.client_id, own)


def rate_limits(
    api: str, *, principal: PrincipalDependency, key: Callable[[Principal], str | None] | None = None
) -> DependsParam:
    """The dependency an API's router includes; `principal` is the API's own (cached) authentication dependency.
    `key` replaces `Principal.rate_key` for APIs that count otherwise (None from it falls back to the default)."""

    @raises(RateLimited)
    async def meter(request: Request, runtime: RuntimeDep) -> Meter | None:
        # Runs before authentication: an address that sent too many bad credentials is refused unread.
        if runtime.limiter is None:
            return None
        address = client_address(request, runtime.settings.server.trusted_proxies)
        found = Meter(api=api, limiter=runtime.limiter, address=address_key(address))
        setattr(request.state, _STATE_KEY, found)
        if _carries_credentials(request):
            refused = await found.limiter.refusal(found.failure_key, route=found.failure_route)
            if refused is not None:
                raise _refuse(found, refused)
        return found

    @raises(RateLimited)
    async def limit(
        request: Request,
        runtime: RuntimeDep,
        found: Annotated[Meter | None, Depends(meter)],
        caller: Annotated[Principal, Depends(principal)],
    ) -> None:
        if found is None:
            return
        found.authenticated = not caller.is_anonymous  # bad credentials identify as anonymous
        counter = (key(caller) if key is not None else None) or caller.rate_key() or found.address
        rules = await _rules_of(runtime, found.limiter, caller)
        decision = await found.limiter.hit(counter, route=_scope(api, request), rules=rules)
        if decision is None:
            return
        if not decision.allowed:
            raise _refuse(found, decision)
        found.headers = rate_limit_headers(decision)

    return DependsParam(limit)


async def count_failure(request: Request, error: PinholeError) -> PinholeError:
    """Count a key refused while authenticating against the address; past the limit the answer becomes 429."""
    found = _meter(request)
    if found is None or found.authenticated or not isinstance(error, InvalidApiKey):
        return error
    decision = await found.limiter.hit(found.failure_key, route=found.failure_route)
    if decision is None:
        return error
    if not decision.allowed:
        return _refuse(found, decision)
    found.headers = rate_limit_headers(decision)
    return error


def add_headers(request: Request, response: Response) -> None:
    """Put the request's `X-RateLimit-*` headers on its response, whatever produced it."""
    found = _meter(request)
    if found is not None:
        response.headers.update(found.headers)
