"""The error answers each route can give, derived from what the route declares, for its OpenAPI operation.

Dependencies and endpoints name the errors they raise with `@raises(...)` (a credential check: 401; an admin
check: 403; the rate limiter: 429; the database: 503). The route's shape adds what it implies: a path parameter
reads an id (not found), query or body parameters can be invalid, and an image upload can be too large, not an
image, corrupt or over a quota. Each kind of error becomes a status through the route's own API renderer, so an
API that answers a file too large with 400 (uploadkey) or 422 (slink) documents that status, not pinhole's 413.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, get_args

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette.requests import Request

from pinhole.errors import (
    AlbumNotFound,
    CorruptImage,
    CsrfFailed,
    DatabaseBusy,
    Forbidden,
    ImageNotFound,
    ImageTooLarge,
    InvalidApiKey,
    InvalidInput,
    InvalidSignature,
    InvalidTransform,
    LoginThrottled,
    MissingApiKey,
    MissingSignature,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    PinholeError,
    QuotaExceeded,
    RateLimited,
    StorageError,
    Unauthorized,
    UnsupportedImageFormat,
    UnsupportedMediaType,
)

F = TypeVar("F", bound=Callable[..., Any])
Kind = type[PinholeError]
_RAISES = "__pinhole_raises__"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
UPLOAD_ERRORS: tuple[Kind, ...] = (
    InvalidInput,
    PayloadTooLarge,
    UnsupportedImageFormat,
    CorruptImage,
    ImageTooLarge,
    QuotaExceeded,
    Overloaded,
)
# One realistic error of each kind, in the order that picks an operation's example for a status several kinds share
# (a route that needs a key shows the missing key for 401, not the bad one). Rendered by each API's renderer, they
# are the error examples of the document: what the server would answer, in that API's shape.
_SAMPLES: dict[Kind, Callable[[], PinholeError]] = {
    InvalidInput: lambda: InvalidInput("The request is not valid: a header or a field is missing or malformed."),
    InvalidTransform: lambda: InvalidTransform("w must be between 1 and 8192.", field="w"),
    MissingApiKey: lambda: MissingApiKey("Send your client API key in the X-API-Key header.", field="X-API-Key"),
    Unauthorized: lambda: Unauthorized("Sign in: send an access token (Authorization: Bearer)."),
    InvalidApiKey: lambda: InvalidApiKey("The API key is not valid or its client is inactive.", field="X-API-Key"),
    QuotaExceeded: lambda: QuotaExceeded(
        "This client's storage quota is used up.", quota="bytes", limit=1073741824, used=1073000000, requested=183204
    ),
    Forbidden: lambda: Forbidden("You may not do this."),
    InvalidSignature: lambda: MissingSignature(),
    CsrfFailed: lambda: CsrfFailed(),
    NotFound: lambda: NotFound("No such resource: check the id in the path."),
    PayloadTooLarge: lambda: PayloadTooLarge("The file is larger than 10 MB.", details={"limit": 10485760}),
    UnsupportedImageFormat: lambda: UnsupportedImageFormat(
        "Not an accepted image format: send JPEG, PNG, WebP or GIF."
    ),
    UnsupportedMediaType: lambda: UnsupportedMediaType("Send the bytes as application/offset+octet-stream."),
    CorruptImage: lambda: CorruptImage("The image could not be decoded."),
    ImageTooLarge: lambda: ImageTooLarge("The image is over the pixel limit of 50000000.", details={"limit": 50000000}),
    RateLimited: lambda: RateLimited(retry_after=30),
    LoginThrottled: lambda: LoginThrottled(retry_after=30),
    Overloaded: lambda: Overloaded(),
    DatabaseBusy: lambda: DatabaseBusy(),
    StorageError: lambda: StorageError("The image store is unavailable; retry shortly."),
}
_TYPE_WORDS = {"int": "integer", "bool": "boolean", "float": "number", "str": "string"}
# (path, method in lower case) -> {status: the body the API answers it with}
Operations = dict[tuple[str, str], dict[str, Any]]


def raises(*kinds: Kind) -> Callable[[F], F]:
    """Mark a dependency or an endpoint with the errors it raises (read by `route_errors`)."""

    def mark(function: F) -> F:
        setattr(function, _RAISES, getattr(function, _RAISES, ()) + kinds)
        return function

    return mark


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    """The route's own dependant (its endpoint) and every dependency under it."""
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _uploads_an_image(openapi_extra: dict[str, Any] | None) -> bool:
    body = (openapi_extra or {}).get("requestBody", {})
    return '"binary"' in json.dumps(body)


def route_errors(context: RouteContext) -> set[Kind]:
    """The kinds of error a route can answer, from its dependencies, its parameters and its body."""
    every = list(_dependants(context.dependant))
    kinds: set[Kind] = {kind for item in every for kind in getattr(item.call, _RAISES, ())}
    if any(item.path_params for item in every):
        kinds.add(NotFound)
    if any(item.query_params or item.body_params for item in every):
        kinds.add(InvalidInput)
    if _uploads_an_image(context.openapi_extra):
        kinds.update(UPLOAD_ERRORS)
    if set(context.methods or ()) <= _SAFE_METHODS:
        kinds.discard(CsrfFailed)  # only state-changing requests are checked for the CSRF token
    return kinds


def _ordered(kinds: set[Kind]) -> list[Kind]:
    """`kinds` in the examples' order; a kind without a sample (none today) after them, by name."""
    known = [kind for kind in _SAMPLES if kind in kinds]
    return known + sorted(kinds.difference(_SAMPLES), key=lambda kind: kind.__name__)


def _not_found(every: list[Dependant]) -> PinholeError:
    """What the route's first path parameter names: an image, an album, or another thing."""
    name = next(field.alias for item in every for field in item.path_params)
    if "album" in name.lower():
        return AlbumNotFound("Album not found.")
    if "image" in name.lower() or name in ("id", "uuid", "file"):
        return ImageNotFound()
    return NotFound(f"No such {name.removesuffix('_id').replace('_', ' ')}.")


def _type_word(annotation: Any) -> str:
    """`integer` for `int | None`, as pydantic's message names the type."""
    for kind in (annotation, *get_args(annotation)):
        word = _TYPE_WORDS.get(getattr(kind, "__name__", ""))
        if word is not None:
            return word
    return "string"


def _invalid_input(every: list[Dependant], *, form: bool) -> PinholeError:
    """A bad value of the route's first query parameter, else a body that is not JSON or a form not readable."""
    query = [field for item in every for field in item.query_params]
    if query:
        name = query[0].alias
        return InvalidInput(f"{name}: Input should be a valid {_type_word(query[0].field_info.annotation)}", field=name)
    if any(item.body_params for item in every):
        return InvalidInput("JSON decode error: Expecting value")
    if form:
        return InvalidInput("The request form could not be read: send multipart/form-data.")
    return _SAMPLES[InvalidInput]()


def _sample(kind: Kind, every: list[Dependant], *, form: bool = False) -> PinholeError:
    if kind is NotFound and any(item.path_params for item in every):
        return _not_found(every)
    if kind is InvalidInput:
        return _invalid_input(every, form=form)
    make = _SAMPLES.get(kind)
    return make() if make is not None else _plain(kind)


def _plain(kind: Kind) -> PinholeError:
    """An error of a kind without a sample: its own constructor when a message is enough, else the base one's
    (a kind added with `@raises` whose constructor needs more never breaks the document)."""
    message = "An example of this error."
    try:
        return kind(message)
    except TypeError:
        error = kind.__new__(kind)
        PinholeError.__init__(error, message)
        return error


def _rendered(route: APIRoute, error: PinholeError) -> tuple[str, Any]:
    """The status and JSON body the route's API answers `error` with (pinhole's own shape without a renderer)."""
    render = getattr(type(route), "render_error", None)
    if render is None:
        return str(error.status), None
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""})
    response = render(request, error)
    try:
        body = json.loads(bytes(response.body))
    except ValueError:
        body = None
    return str(response.status_code), body


def operation_errors(app: FastAPI) -> Operations:
    """Every documented operation's possible error statuses, each with the body its API answers."""
    found: Operations = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not context.include_in_schema or context.path_format is None:
            continue
        every = list(_dependants(context.dependant))
        answers: dict[str, Any] = {}
        for kind in _ordered(route_errors(context)):
            sample = _sample(kind, every, form=_uploads_an_image(context.openapi_extra))
            status, body = _rendered(route, sample)
            answers.setdefault(status, body)
        # Imported here: api.errors imports the rate limiter, which marks its dependencies with `raises`.
        from pinhole.api.errors import InternalError

        answers["500"] = _rendered(route, InternalError("Something went wrong on our side."))[1]
        for method in context.methods or ():
            found[context.path_format, method.lower()] = answers
    return found
