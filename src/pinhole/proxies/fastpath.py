"""The warm fast path of the proxy URL languages: raw ASGI in front of FastAPI that answers a URL whose variant is
known here from memory, with the route's own headers, after the route's own checks; everything else goes to the
route (docs/proxies.md, "Warm answers").

Each dialect translates its URL into an `Ask` with the same function its route calls (`Translate`), so both parse
and sign-check alike. The decision about one URL (its signature, whom it opens, its answer's headers) is kept in a
memo while the image's record, its variant and its client's rules are current, while the URL's `expires` has not
passed, and while the image's client still holds no own keys for the dialect (`KeyAbsence`, the route's own
shortcut: a key added here forgets it at once). A URL that needs the client's own keys, names a remote origin or
a missing image, or fails a check, always goes to the route, which answers the refusal in the dialect's shape.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from pinhole.api.front import PinholeApp
from pinhole.api.mounting import FastPath
from pinhole.api.transform_query import TransformFields, to_options
from pinhole.api.warm import (
    MEMO_LIMIT,
    Asked,
    Prepared,
    client_rules_now,
    prepare_answer,
    record_usage,
    send_prepared,
    stored_bytes,
    warm_defaults,
    with_current_presets,
)
from pinhole.db.models import Image
from pinhole.errors import PinholeError
from pinhole.observability.context import ROUTE_SCOPE_KEY
from pinhole.proxies.access import Access, opened
from pinhole.proxies.sources import hosted_id, remote_url
from pinhole.runtime import Runtime
from pinhole.security import policy

NO_HEADERS: frozenset[bytes] = frozenset()  # the proxy routes read no credentials: a key header changes nothing


@dataclass(frozen=True)
class Ask:
    """What one proxy URL asks for, as its dialect's route reads it."""

    source: str  # a hosted image (`pinhole://<id>` or the id) or a remote origin URL
    access: Access
    fields_for: Callable[[Image], TransformFields]
    vary_accept: bool = False  # the dialect picks the format by Accept, and its route adds `Accept` to Vary
    expires: int | None = None  # imgproxy's `expires`: the route refuses the URL after it


# (runtime, the raw path after the prefix, the raw query, Accept) -> the URL's Ask; None (or a PinholeError) when
# the route must decide. Each dialect's route builds its Ask with the same function.
Translate = Callable[[Runtime, str, str, str], Ask | None]


@dataclass(frozen=True)
class WarmAnswer:
    prepared: Prepared
    counts_view: bool  # a GET of it is a view (`services.views`: not when the image's own client signed)
    expires: int | None
    keys_of: str | None  # the client whose lack of own keys for the dialect the decision relied on


def fast_path(dialect: str, translate: Translate) -> FastPath:
    """A proxy dialect's fast-path hook (`Dialect.fast_path`)."""

    def install(app: PinholeApp, runtime: Runtime, prefix: str) -> None:
        app.add_front_middleware(WarmProxy, runtime=runtime, prefix=prefix, dialect=dialect, translate=translate)

    return install


class WarmProxy:
    def __init__(self, app: ASGIApp, *, runtime: Runtime, prefix: str, dialect: str, translate: Translate):
        self.app = app
        self.runtime = runtime
        self.prefix = prefix
        self.under = prefix + "/"
        self.dialect = dialect
        self.translate = translate
        self.labels = (dialect, "serve")  # (dialect, route) of the route this path stands in for, for metrics
        self.defaults = warm_defaults(runtime)
        self.memo: dict[tuple[str, bytes, bytes], WarmAnswer] = {}
        self.answers = runtime.telemetry.metrics.tally.answers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not scope["path"].startswith(self.under)
            or scope["method"] not in ("GET", "HEAD")
            or not await self._answer(scope, send)
        ):
            await self.app(scope, receive, send)

    def _follow_presets(self) -> None:
        current = with_current_presets(self.runtime, self.defaults)
        if current is not self.defaults:
            self.defaults = current
            self.memo.clear()

    async def _answer(self, scope: Scope, send: Send) -> bool:
        runtime = self.runtime
        if runtime.hot.budget == 0:
            return False
        asked = Asked(scope, NO_HEADERS)
        if asked.ranged:
            return False  # byte ranges are the route's (206 / 416)
        raw = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")  # as `path_after` reads it
        path = raw.removeprefix(scope.get("root_path", "")).removeprefix(self.prefix)
        self._follow_presets()
        memo_key = (path, scope["query_string"], asked.accept)
        found = self.memo.get(memo_key)
        if found is not None:
            if runtime.recent.versions is not None:  # another instance may have changed it (with Redis)
                await runtime.recent.revalidate(found.prepared.image.id)
            if not found.prepared.current(runtime):
                found = None
        if found is None:
            found = await self._prepare(path, scope["query_string"], asked.accept.decode("latin-1"))
            if found is None:
                return False
            if len(self.memo) >= MEMO_LIMIT:
                self.memo.clear()
            self.memo[memo_key] = found
        if found.expires is not None and found.expires < time.time():
            return False  # the route refuses it
        if found.keys_of is not None and not runtime.proxy_key_absence.known(found.keys_of, self.dialect):
            return False  # the client may hold own keys now: the route reads them
        prepared = found.prepared
        payload = prepared.payload
        data, source = runtime.hot.get(payload.key, payload.etag), "memory"
        if data is None:
            data, source = await stored_bytes(runtime, payload), "store"
            if data is None:
                return False
        scope[ROUTE_SCOPE_KEY] = self.labels
        self.answers[source] += 1  # a plain counter; the tally's flush exports it (pinhole_delivery_answers_total)
        method = scope["method"]
        if method == "GET":
            pending = record_usage(runtime, prepared, view=found.counts_view and not asked.embedded())
            if pending is not None:
                await pending
        await send_prepared(send, method, prepared, data, asked.if_none_match, [])
        return True

    async def _prepare(self, path: str, query: bytes, accept: str) -> WarmAnswer | None:
        runtime = self.runtime
        try:
            ask = self.translate(runtime, path, query.decode("latin-1"), accept)
            if ask is None or remote_url(ask.source) is not None:
                return None  # remote origins are the route's (fetch, TTL, revalidation)
            image_id = hosted_id(ask.source)
        except PinholeError:
            return None
        await runtime.recent.revalidate(image_id)
        image = runtime.recent.get(image_id)
        if image is None:
            return None
        keys_of = image.client_id if ask.access.owner_keys else None
        if keys_of is not None and not runtime.proxy_key_absence.known(keys_of, self.dialect):
            return None  # the client's own keys are read by the route
        try:
            viewer = opened(image, ask.access, ()).viewer
            options = to_options(ask.fields_for(image), self.defaults)
        except (PinholeError, ValueError):
            return None  # refused, expired or invalid: the route answers in the dialect's shape
        owner = viewer is not None and policy.can_transform_freely(viewer, image)
        rules = client_rules_now(runtime, image.client_id)
        if rules is None:
            return None
        protected = options.is_identity and rules.protect_originals
        if (protected and not owner) or (options.is_identity and runtime.settings.storage.s3.presign_originals):
            return None  # the route refuses it, or redirects to the S3 service
        public = not image.is_private and not protected
        prepared = prepare_answer(
            runtime, image, options, accept=accept or None, rules=rules, public=public, vary_accept=ask.vary_accept
        )
        if prepared is None:
            return None
        counts = viewer is None or viewer.is_anonymous or not policy.can_modify_image(viewer, image)
        return WarmAnswer(prepared, counts_view=counts, expires=ask.expires, keys_of=keys_of)
