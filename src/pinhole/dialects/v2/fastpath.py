"""The warm fast path of v2 delivery: raw ASGI in front of FastAPI that answers cached public images from memory
with the route's own headers, and leaves everything else to the route (docs/apis.md, "v2").
"""

from __future__ import annotations

from dataclasses import asdict
from urllib.parse import parse_qsl

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from pinhole.api.credentials import CREDENTIAL_HEADERS
from pinhole.api.front import PinholeApp
from pinhole.api.proxies import client_address
from pinhole.api.transform_query import (
    IGNORED_NAMES,
    OPTION_NAMES,
    TransformDefaults,
    parse_transform_query,
    read_fields,
)
from pinhole.api.warm import (
    MEMO_LIMIT,
    Asked,
    Headers,
    Prepared,
    client_rules_now,
    prepare_answer,
    record_usage,
    send_prepared,
    stored_bytes,
    warm_defaults,
    with_current_presets,
)
from pinhole.errors import PinholeError
from pinhole.imaging.options import OutputLimits
from pinhole.observability.context import ROUTE_SCOPE_KEY
from pinhole.runtime import Runtime
from pinhole.security.ratelimit import address_key, rate_limit_headers
from pinhole.security.signing import SigningMode

HEADERS = frozenset(name.lower().encode("latin-1") for name in CREDENTIAL_HEADERS)
SIMPLE_NAMES = OPTION_NAMES | IGNORED_NAMES
SERVE_ROUTE = "v2.images.serve"  # the rate-limit scope of the route this path stands in for
ROUTE_LABELS = ("v2", "images.serve")  # (dialect, route) of the route this path stands in for, for metrics


def simple_params(query: bytes) -> dict[str, str] | None:
    """A plain query's parameters (options only, each once), or None when the FastAPI route must decide."""
    params: dict[str, str] = {}
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if name in params or name not in SIMPLE_NAMES:
            return None
        params[name] = value
    return params


# Whatever a server's limits: `parse_simple_query` says what a query asks for, not whether this server allows it.
_UNLIMITED = TransformDefaults(
    thumbnail_size=1, limits=OutputLimits(max_width=1 << 30, max_height=1 << 30, max_pixels=1 << 60)
)


def parse_simple_query(query: bytes) -> dict[str, object] | None:
    """The transform fields of a plain query as the shared parser reads them, or None when the route must decide."""
    params = simple_params(query)
    if params is None:
        return None
    try:
        parse_transform_query(params, _UNLIMITED)
        return asdict(read_fields(params))
    except PinholeError:
        return None


def install(app: PinholeApp, runtime: Runtime, prefix: str) -> None:
    """The v2 API's fast-path hook (`Dialect.fast_path`)."""
    app.add_front_middleware(WarmDelivery, runtime=runtime, prefix=prefix)


class WarmDelivery:
    def __init__(self, app: ASGIApp, *, runtime: Runtime, prefix: str):
        self.app = app
        self.runtime = runtime
        self.images = prefix + "/images/"
        self.defaults = warm_defaults(runtime)
        self.memo: dict[tuple[str, bytes, bytes], Prepared] = {}
        self.answers = runtime.telemetry.metrics.tally.answers

    def _follow_presets(self) -> None:
        current = with_current_presets(self.runtime, self.defaults)
        if current is not self.defaults:
            self.defaults = current
            self.memo.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or not await self._answer(scope, send):
            await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, send: Send) -> bool:
        path: str = scope["path"]
        runtime = self.runtime
        if not path.startswith(self.images) or runtime.hot.budget == 0:
            return False
        image_id = path[len(self.images) :]
        asked = Asked(scope, HEADERS)
        if asked.credentials or asked.ranged:
            return False  # credentials and byte ranges (206 / 416) are the route's
        accept = asked.accept
        if runtime.recent.versions is not None:  # another instance may have changed it (with Redis)
            await runtime.recent.revalidate(image_id)
        self._follow_presets()
        memo_key = (image_id, scope["query_string"], accept)  # browsers send a handful of distinct Accepts
        prepared = self.memo.get(memo_key)
        if prepared is None or not prepared.current(runtime):
            prepared = self._prepare(image_id, scope["query_string"], accept.decode("latin-1") or None)
            if prepared is None:
                return False
            if len(self.memo) >= MEMO_LIMIT:
                self.memo.clear()
            self.memo[memo_key] = prepared
        payload = prepared.payload
        data, source = runtime.hot.get(payload.key, payload.etag), "memory"
        if data is None:
            data, source = await stored_bytes(runtime, payload), "store"
            if data is None:
                return False
        limited: Headers = []
        limiter = runtime.limiter
        if limiter is not None and limiter.limits(SERVE_ROUTE):
            counted = await self._rate_limit(scope)
            if counted is None:
                return False  # refused: the route answers 429 in the v2 shape
            limited = counted
        scope[ROUTE_SCOPE_KEY] = ROUTE_LABELS
        self.answers[source] += 1  # a plain counter; the tally's flush exports it (pinhole_delivery_answers_total)
        method = scope["method"]
        if method == "GET":
            # nobody signed in asks here: a view unless one of our pages embeds it (`services.views`)
            pending = record_usage(runtime, prepared, view=not asked.embedded())
            if pending is not None:
                await pending
        await send_prepared(send, method, prepared, data, asked.if_none_match, limited)
        return True

    async def _rate_limit(self, scope: Scope) -> Headers | None:
        """The rate-limit headers of an allowed answer ([] when unlimited), or None when the hit is refused."""
        limiter = self.runtime.limiter
        if limiter is None:
            return []
        address = client_address(HTTPConnection(scope), self.runtime.settings.server.trusted_proxies)
        decision = await limiter.hit(address_key(address), route=SERVE_ROUTE)
        if decision is None:
            return []
        if not decision.allowed:
            return None
        return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in rate_limit_headers(decision).items()]

    def _prepare(self, image_id: str, query: bytes, accept: str | None) -> Prepared | None:
        image = self.runtime.recent.get(image_id)
        params = simple_params(query)
        if image is None or image.is_private or params is None:
            return None
        try:
            options, extras = parse_transform_query(params, self.defaults)  # the route's own parser
        except PinholeError:
            return None
        if not options.is_identity and self.runtime.signing_mode is not SigningMode.OFF:
            return None
        if self.runtime.settings.transforms.presets_only and extras.others:
            return None  # strangers may ask for presets alone: the route refuses the rest
        rules = client_rules_now(self.runtime, image.client_id)
        if rules is None or (options.is_identity and rules.protect_originals):
            return None  # the route reads the client's rules (and keeps protected originals from strangers)
        return prepare_answer(self.runtime, image, options, accept=accept, rules=rules, public=True)
