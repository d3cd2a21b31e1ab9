"""What every warm fast path shares (v2's and the proxy URL languages'): an answer prepared once per (image, options,
Accept) with the route's own headers, kept while its record, variant and client rules are current, and sent from
memory in raw ASGI (docs/apis.md, "v2"; docs/proxies.md, "Warm answers").
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, replace

from starlette.types import Scope, Send

from pinhole.api.delivery import (
    Payload,
    answer_vary,
    blob_headers,
    etag_matches,
    image_cache_control,
    original_payload,
)
from pinhole.api.transform_query import TransformDefaults
from pinhole.db.models import Image
from pinhole.errors import PinholeError, StorageError
from pinhole.imaging.options import TransformOptions
from pinhole.runtime import Runtime
from pinhole.services.client_defaults import ClientRules, with_client_watermark
from pinhole.services.variant_options import effective_options, negotiation_policy, resolve_watermark_now
from pinhole.services.variants import StoredVariant
from pinhole.services.views import embedded_by_us

Headers = list[tuple[bytes, bytes]]
MEMO_LIMIT = 20_000  # prepared answers per fast path; past it the memo starts again
NO_RULES = ClientRules()


@dataclass(frozen=True)
class Prepared:
    """Everything about one (image, query) answer but the bytes; valid while its record and variant are current."""

    image: Image
    variant: StoredVariant | None
    payload: Payload
    headers: Headers  # without Content-Type/Length, which 304s must not carry
    rules: ClientRules  # the client's rules it was made under (watermark, protected originals)
    full: Headers  # `headers` with Content-Type and Content-Length (of `payload.size`): a 200's, made once

    def current(self, runtime: Runtime) -> bool:
        if runtime.recent.get(self.image.id) is not self.image:
            return False
        if client_rules_now(runtime, self.image.client_id) is not self.rules:
            return False  # changed here (forgotten), or due for a re-read: the route reads them again
        return self.variant is None or runtime.variants.known.get(self.variant.cache_key) is self.variant


def client_rules_now(runtime: Runtime, client_id: str) -> ClientRules | None:
    """The client's rules from the cache (None when not at hand: the route reads them)."""
    clients = runtime.variants.clients
    return NO_RULES if clients is None else clients.cached(client_id)


def raw_headers(headers: dict[str, str]) -> Headers:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


def prepare_answer(
    runtime: Runtime,
    image: Image,
    options: TransformOptions,
    *,
    accept: str | None,
    rules: ClientRules,
    public: bool,
    vary_accept: bool = False,
) -> Prepared | None:
    """The answer `deliver_image` would give for `options` of `image` when its variant is known here; None when the
    route must decide (an unknown variant, a watermark whose record is not at hand, an error to answer).
    `vary_accept`: the dialect picks the format by Accept itself, and its route adds `Accept` to Vary."""
    options = with_client_watermark(options, image=image, rules=rules)
    try:
        marked = resolve_watermark_now(options, image=image, known=runtime.recent.get, site=runtime.variants.site_mark)
    except PinholeError:
        return None  # the route answers the error
    if marked is None:
        return None  # the watermark's record is not at hand: the route looks it up
    policy = negotiation_policy(runtime.settings.transforms)
    effective = effective_options(marked, image=image, accept=accept, policy=policy)
    variant = None
    payload = original_payload(image)
    if not options.is_identity:
        variant = runtime.variants.known.get((image.content_hash, effective.options.canonical()))
        if variant is None:
            return None
        payload = Payload(key=variant.key, mime=variant.mime, size=variant.size, etag=variant.etag)
    vary = answer_vary(public=public, negotiated=effective.negotiated)
    if vary_accept:
        vary = f"{vary}, Accept" if vary else "Accept"
    raw = raw_headers(blob_headers(payload, cache=image_cache_control(runtime, image, public=public), vary=vary))
    full = [*raw, *content_headers(payload.mime, payload.size)]
    return Prepared(image=image, variant=variant, payload=payload, headers=raw, rules=rules, full=full)


def content_headers(mime: str, length: int) -> Headers:
    return [(b"content-type", mime.encode()), (b"content-length", str(length).encode())]


class Asked:
    """What a warm path reads from a request's headers, in one pass."""

    __slots__ = ("accept", "credentials", "fetch_dest", "fetch_site", "if_none_match", "ranged")

    def __init__(self, scope: Scope, credential_headers: frozenset[bytes]) -> None:
        self.accept = b""
        self.if_none_match: str | None = None
        self.fetch_site: bytes | None = None
        self.fetch_dest = b""
        self.credentials = self.ranged = False
        for name, value in scope["headers"]:
            if name == b"accept":
                self.accept = value
            elif name == b"if-none-match":
                self.if_none_match = value.decode("latin-1")
            elif name == b"range":
                self.ranged = True  # byte ranges are the route's (206 / 416)
            elif name == b"sec-fetch-site":
                self.fetch_site = value
            elif name == b"sec-fetch-dest":
                self.fetch_dest = value
            elif name in credential_headers:
                self.credentials = True

    def embedded(self) -> bool:
        """`services.views.embedded_by_us` over the headers read."""
        if self.fetch_site is None:
            return False
        site, dest = self.fetch_site.decode("latin-1"), self.fetch_dest.decode("latin-1")
        return embedded_by_us({"sec-fetch-site": site, "sec-fetch-dest": dest})


def record_usage(runtime: Runtime, prepared: Prepared, *, view: bool) -> Awaitable[None] | None:
    """Count what a GET answered here counts on the route: the variant's last access and, when `view`
    (`services.views` says it is one), a view. Returns what must still be awaited (a view counted in Redis)."""
    usage = runtime.usage
    if prepared.variant is not None:
        usage.record_variant_access(prepared.variant.id)
    if not view:
        return None
    if usage.shared:
        return usage.record_view(prepared.image.id)
    usage.record_local_view(prepared.image.id)  # no coroutine on the hot path
    return None


async def stored_bytes(runtime: Runtime, payload: Payload) -> bytes | None:
    """The bytes from the store, kept in memory for the next hit; None when the route must recover (missing,
    unreadable, or too large to keep in memory). A hit looks in `runtime.hot` first (no await)."""
    hot = runtime.hot
    if not hot.fits(payload.size):
        return None
    try:
        data = await runtime.store.get_bytes(payload.key)
    except StorageError:  # missing or unreadable: the route knows how to recover
        return None
    hot.put(payload.key, payload.etag, data)
    return data


async def send_prepared(
    send: Send, method: str, prepared: Prepared, data: bytes, if_none_match: str | None, extra: Headers
) -> None:
    """The answer `send_blob` gives: a 304 for a matching validator, else the bytes (none for HEAD). Each answer
    gets a list of its own (the observability middleware appends X-Request-Id to it)."""
    payload = prepared.payload
    if if_none_match is not None and etag_matches(if_none_match, payload.etag):
        status, body, headers = 304, b"", [*prepared.headers, *extra]
    elif len(data) == payload.size:
        status, body, headers = 200, data, [*prepared.full, *extra]
    else:
        status, body = 200, data
        headers = [*prepared.headers, *content_headers(payload.mime, len(data)), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})


def warm_defaults(runtime: Runtime) -> TransformDefaults:
    """The transform defaults a warm path parses with: the route's, with the presets current now."""
    return TransformDefaults(
        thumbnail_size=runtime.settings.imaging.thumbnail_size,
        limits=runtime.output_limits,
        presets=runtime.presets.current().queries,
    )


def with_current_presets(runtime: Runtime, defaults: TransformDefaults) -> TransformDefaults:
    """`defaults` itself while the presets are unchanged, else new defaults with the current ones (here or, read
    back, on another instance): then what `preset=` asks for may have changed, and a warm path forgets its memo."""
    queries = runtime.presets.current().queries
    return defaults if defaults.presets is queries else replace(defaults, presets=queries)
