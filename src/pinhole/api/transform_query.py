"""The transform query language (`w`, `h`, `q`, `format`, `thumb`, `fit`, `enlarge`): parsed once, by
`parse_transform_query`, for the v2 route, its warm fast path, the signing API, the web pages and the CLI.

`sig`, `exp`, `info` and `token` ride along in the same query but are not options (`TransformExtras`): they never
change the canonical options, so a signed and an unsigned request for one variant share its cache entry.
A new option is added here: a name in `OPTION_NAMES`, a field of `TransformFields`, a line in `read_fields` and
in `to_options` (and its `Query` declaration on the v2 route, which only documents it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import TypeAdapter, ValidationError

from pinhole.errors import InvalidTransform
from pinhole.imaging.options import OutputLimits, TransformOptions, make_transform

OPTION_NAMES = frozenset({"w", "h", "q", "format", "thumb", "fit", "enlarge"})
EXTRA_NAMES = frozenset({"info", "token", "sig", "exp"})
IGNORED_NAMES = frozenset({"t"})  # cache busting
QUERY_NAMES = {"width": "w", "height": "h", "quality": "q"}

# The same lax coercion FastAPI applies to `Query` parameters, so the route and the fast path agree on every value.
_INT: TypeAdapter[int] = TypeAdapter(int)
_BOOL: TypeAdapter[bool] = TypeAdapter(bool)
_FIT: TypeAdapter[Literal["inside", "cover", "fill"]] = TypeAdapter(Literal["inside", "cover", "fill"])


@dataclass(frozen=True)
class TransformDefaults:
    """What a parse needs from the server: the `thumb` size and the largest output allowed."""

    thumbnail_size: int
    limits: OutputLimits


@dataclass(frozen=True)
class TransformFields:
    """The options as the query gives them, typed but not yet normalised."""

    w: int | None = None
    h: int | None = None
    q: int | None = None
    format: str | None = None
    thumb: bool = False
    fit: str | None = None
    enlarge: bool = False


@dataclass(frozen=True)
class TransformExtras:
    """What rides along with the options: metadata instead of bytes, a share token, a URL signature."""

    info: bool = False
    token: str | None = None
    sig: str | None = None
    exp: str | None = None


def _typed(adapter: TypeAdapter[Any], params: Mapping[str, str], name: str) -> Any:
    value = params.get(name)
    if value is None:
        return None
    try:
        return adapter.validate_python(value)
    except ValidationError:
        raise InvalidTransform(f"{name}: {value!r} is not a valid value.", field=name) from None


def read_fields(params: Mapping[str, str]) -> TransformFields:
    return TransformFields(
        w=_typed(_INT, params, "w"),
        h=_typed(_INT, params, "h"),
        q=_typed(_INT, params, "q"),
        format=params.get("format"),
        thumb=bool(_typed(_BOOL, params, "thumb")),
        fit=_typed(_FIT, params, "fit"),
        enlarge=bool(_typed(_BOOL, params, "enlarge")),
    )


def read_extras(params: Mapping[str, str]) -> TransformExtras:
    return TransformExtras(
        info=bool(_typed(_BOOL, params, "info")),
        token=params.get("token"),
        sig=params.get("sig"),
        exp=params.get("exp"),
    )


def to_options(fields: TransformFields, defaults: TransformDefaults) -> TransformOptions:
    """The fields as normalised `TransformOptions` (`thumb` becomes its w, h and fit)."""
    w, h, fit = fields.w, fields.h, fields.fit
    if fields.thumb:
        size = defaults.thumbnail_size
        w, h, fit = w or size, h or size, fit or "cover"
    try:
        return make_transform(
            width=w,
            height=h,
            fit=fit,
            quality=fields.q,
            format=fields.format,
            enlarge=fields.enlarge,
            limits=defaults.limits,
        )
    except InvalidTransform as error:  # name the field as the query spells it
        error.field = QUERY_NAMES.get(error.field or "", error.field)
        raise


def parse_transform_query(
    params: Mapping[str, str], defaults: TransformDefaults
) -> tuple[TransformOptions, TransformExtras]:
    """A transform request's query → its options and extras; raises `InvalidTransform` naming the bad field."""
    return to_options(read_fields(params), defaults), read_extras(params)


def transform_query(options: TransformOptions) -> dict[str, str]:
    """The query that asks for exactly `options` (normalised: `thumb` comes out as its w, h and fit)."""
    query = {"w": options.width, "h": options.height, "q": options.quality, "format": options.format}
    found = {name: str(value) for name, value in query.items() if value is not None}
    if options.fit != "inside":
        found["fit"] = options.fit
    if options.enlarge:
        found["enlarge"] = "true"
    return found


def transform_url(image_url: str, options: TransformOptions, signature: dict[str, str]) -> str:
    """`image_url` with the query that asks for `options`, plus the signature parameters."""
    query = urlencode(transform_query(options) | signature)
    return f"{image_url}?{query}" if query else image_url
