"""The warm fast path of v2 delivery: raw ASGI in front of FastAPI that answers cached public images from memory
with the route's own headers, and leaves everything else to the route (docs/apis.md, "v2").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from urllib.parse import parse_qsl

from fastapi import FastAPI
from starlette.datastructures import Headers as RequestHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from pinhole.api.credentials import CREDENTIAL_HEADERS
from pinhole.api.delivery import (
    Payload,
    answer_vary,
    blob_headers,
    etag_matches,
    image_cache_control,
    original_payload,
)
from pinhole.api.proxies import client_address
from pinhole.api.transform_query import (
    IGNORED_NAMES,
    OPTION_NAMES,
    TransformDefaults,
    parse_transform_query,
    read_fields,
)
from pinhole.db.models import Image
from pinhole.errors import PinholeError, StorageError
from pinhole.imaging.options import OutputLimits
from pinhole.observability.context import ROUTE_SCOPE_KEY
from pinhole.runtime import Runtime
from pinhole.security.ratelimit import address_key, rate_limit_headers
from pinhole.security.signing import SigningMode
from pinhole.services.client_defaults import ClientRules, with_client_watermark
from pinhole.services.variant_options import effective_options, negotiation_policy, resolve_watermark_now
from pinhole.services.variants import StoredVariant
from pinhole.services.views import embedded_by_us

HEADERS = frozenset(name.lower().encode("latin-1") for name in CREDENTIAL_HEADERS)
SIMPLE_NAMES = OPTION_NAMES | IGNORED_NAMES
SERVE_ROUTE = "v2.images.serve"  # the rate-limit scope of the route this path stands in for
ROUTE_LABELS = ("v2", "images.serve")  # (dialect, route) of the route this path stands in for, for metrics
Headers = list[tuple[bytes, bytes]]


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


def install(app: FastAPI, runtime: Runtime, prefix: str) -> None:
    """The v2 API's fast-path hook (`Dialect.fast_path`)."""
    app.add_middleware(WarmDelivery, runtime=runtime, prefix=prefix)


MEMO_LIMIT = 20_000


@dataclass(frozen=True)
class Prepared:
    """Everything about one (image, query) answer but the bytes; valid while its record and variant are current."""

    image: Image
    variant: StoredVariant | None
    payload: Payload
    headers: Headers  # without Content-Type/Length, which 304s must not carry
    rules: ClientRules  # the client's rules it was made under (watermark, protected originals)

    def current(self, runtime: Runtime) -> bool:
        if runtime.recent.get(self.image.id) is not self.image:
            return False
        if client_rules_now(runtime, self.image.client_id) is not self.rules:
            return False  # changed here (forgotten), or due for a re-read: the route reads them again
        return self.variant is None or runtime.variants.known.get(self.variant.cache_key) is self.variant


NO_RULES = ClientRules()


def client_rules_now(runtime: Runtime, client_id: str) -> ClientRules | None:
    """The client's rules from the cache (None when not at hand: the route reads them)."""
    clients = runtime.variants.clients
    return NO_RULES if clients is None else clients.cached(client_id)


class WarmDelivery:
    def __init__(self, app: ASGIApp, *, runtime: Runtime, prefix: str):
        self.app = app
        self.runtime = runtime
        self.images = prefix + "/images/"
        self.defaults = TransformDefaults(
            thumbnail_size=runtime.settings.imaging.thumbnail_size,
            limits=runtime.output_limits,
            presets=runtime.presets.current().queries,
        )
        self.memo: dict[tuple[str, bytes, bytes], Prepared] = {}
        self.answers = runtime.telemetry.metrics.tally.answers

    def _follow_presets(self) -> None:
        """When the presets changed (here or, read back, on another instance), what `preset=` asks for may have:
        forget the memo made under the old ones."""
        queries = self.runtime.presets.current().queries
        if self.defaults.presets is not queries:
            self.defaults = replace(self.defaults, presets=queries)
            self.memo.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or not await self._answer(scope, send):
            await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, send: Send) -> bool:
        path: str = scope["path"]
        if not path.startswith(self.images) or self.runtime.hot.budget == 0:
            return False
        image_id = path[len(self.images) :]
        if_none_match = None
        accept = b""
        for name, value in scope["headers"]:
            if name in HEADERS:
                return False
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif name == b"accept":
                accept = value
            elif name == b"range":
                return False  # byte ranges are the route's (206 / 416)
        await self.runtime.recent.revalidate(image_id)  # another instance may have changed it (with Redis)
        self._follow_presets()
        memo_key = (image_id, scope["query_string"], accept)  # browsers send a handful of distinct Accepts
        prepared = self.memo.get(memo_key)
        if prepared is None or not prepared.current(self.runtime):
            prepared = self._prepare(image_id, scope["query_string"], accept.decode("latin-1") or None)
            if prepared is None:
                return False
            if len(self.memo) >= MEMO_LIMIT:
                self.memo.clear()
            self.memo[memo_key] = prepared
        found = await self._bytes(prepared.payload)
        if found is None:
            return False
        limited = await self._rate_limit(scope)
        if limited is None:
            return False
        data, source = found
        scope[ROUTE_SCOPE_KEY] = ROUTE_LABELS
        self.answers[source] += 1  # a plain counter; the tally's flush exports it (pinhole_delivery_answers_total)
        await self._send(scope, send, prepared, data, if_none_match, limited)
        return True

    async def _rate_limit(self, scope: Scope) -> Headers | None:
        """The rate-limit headers of an allowed answer ([] when unlimited), or None when the hit is refused."""
        limiter = self.runtime.limiter
        if limiter is None or not limiter.limits(SERVE_ROUTE):
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
        variant = None
        payload = original_payload(image)
        rules = client_rules_now(self.runtime, image.client_id)
        if rules is None or (options.is_identity and rules.protect_originals):
            return None  # the route reads the client's rules (and keeps protected originals from strangers)
        options = with_client_watermark(options, image=image, rules=rules)
        policy = negotiation_policy(self.runtime.settings.transforms)
        site = self.runtime.variants.site_mark
        try:
            marked = resolve_watermark_now(options, image=image, known=self.runtime.recent.get, site=site)
        except PinholeError:
            return None  # the route answers the error
        if marked is None:
            return None  # the watermark's record is not at hand: the route looks it up
        effective = effective_options(marked, image=image, accept=accept, policy=policy)
        if not options.is_identity:
            variant = self.runtime.variants.known.get((image.content_hash, effective.options.canonical()))
            if variant is None:
                return None
            payload = Payload(key=variant.key, mime=variant.mime, size=variant.size, etag=variant.etag)
        vary = answer_vary(public=True, negotiated=effective.negotiated)
        headers = blob_headers(payload, cache=image_cache_control(self.runtime, image), vary=vary)
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        return Prepared(image=image, variant=variant, payload=payload, headers=raw, rules=rules)

    async def _bytes(self, payload: Payload) -> tuple[bytes, str] | None:
        """The bytes, and where they came from (`memory` or the `store`), for metrics."""
        hot = self.runtime.hot
        data = hot.get(payload.key, payload.etag)
        if data is not None:
            return data, "memory"
        if not hot.fits(payload.size):
            return None
        try:
            data = await self.runtime.store.get_bytes(payload.key)
        except StorageError:  # missing or unreadable: the route knows how to recover
            return None
        hot.put(payload.key, payload.etag, data)
        return data, "store"

    async def _send(
        self, scope: Scope, send: Send, prepared: Prepared, data: bytes, if_none_match: str | None, extra: Headers
    ) -> None:
        if scope["method"] == "GET":
            if not embedded_by_us(
                RequestHeaders(scope=scope)
            ):  # nobody signed in asks here: the rule of services.views
                await self.runtime.usage.record_view(prepared.image.id)
            if prepared.variant is not None:
                self.runtime.usage.record_variant_access(prepared.variant.id)
        payload = prepared.payload
        if etag_matches(if_none_match, payload.etag):
            status, body, headers = 304, b"", [*prepared.headers, *extra]
        else:
            length = (b"content-length", str(len(data)).encode())
            content = [(b"content-type", payload.mime.encode()), length]
            status, body, headers = 200, data, [*prepared.headers, *content, *extra]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
