"""The transform query language (`w`, `h`, `q`, `format`, `thumb`, `fit`, `enlarge`, the issue 15 options `dpr`,
`crop`, `gravity`, `fp`, `blur`, `sharpen`, `rotate`, `flip`, `flop`, `grayscale`, `bg`, `wm*` and `preset`):
parsed once, by `parse_transform_query`, for the v2 route, its warm fast path, the signing API, the web pages and
the CLI. docs/transforms.md lists every option.

`sig`, `exp`, `info` and `token` ride along in the same query but are not options (`TransformExtras`): they never
change the canonical options, so a signed and an unsigned request for one variant share its cache entry.
A new option is added here: a name in `OPTION_NAMES`, a field of `TransformFields`, a line in `read_fields` and
in `to_options` (and its `Query` declaration on the v2 route, which only documents it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import TypeAdapter, ValidationError

from pinhole.db.models import Image
from pinhole.errors import InvalidInput, InvalidTransform
from pinhole.imaging.negotiation import Negotiation
from pinhole.imaging.options import OutputLimits, TransformOptions, make_transform
from pinhole.services.presets import preset_options, preset_query
from pinhole.services.variant_options import effective_options

WATERMARK_NAMES = ("wm", "wm_gravity", "wm_margin", "wm_opacity", "wm_scale")
EFFECT_NAMES = ("dpr", "crop", "gravity", "fp", "blur", "sharpen", "rotate", "bg", *WATERMARK_NAMES)
FLAG_NAMES = ("flip", "flop", "grayscale")
OPTION_NAMES = frozenset({"w", "h", "q", "format", "thumb", "fit", "enlarge", "preset", *EFFECT_NAMES, *FLAG_NAMES})
EXTRA_NAMES = frozenset({"info", "token", "sig", "exp"})
IGNORED_NAMES = frozenset({"t"})  # cache busting
QUERY_NAMES = {"width": "w", "height": "h", "quality": "q"}

# The same lax coercion FastAPI applies to `Query` parameters, so the route and the fast path agree on every value.
_INT: TypeAdapter[int] = TypeAdapter(int)
_BOOL: TypeAdapter[bool] = TypeAdapter(bool)
_FIT: TypeAdapter[Literal["inside", "cover", "fill", "pad", "outside"]] = TypeAdapter(
    Literal["inside", "cover", "fill", "pad", "outside"]
)
GRAVITY_WORDS = {"ce": "centre", "sm": "smart", "en": "entropy"}


@dataclass(frozen=True)
class TransformDefaults:
    """What a parse needs from the server: the `thumb` size, the largest output allowed and the presets."""

    thumbnail_size: int
    limits: OutputLimits
    presets: Mapping[str, str] = field(default_factory=dict)  # transforms.presets: name → query


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
    dpr: str | None = None
    crop: str | None = None
    gravity: str | None = None
    fp: str | None = None
    blur: str | None = None
    sharpen: str | None = None
    rotate: str | None = None
    bg: str | None = None
    wm: str | None = None
    wm_gravity: str | None = None
    wm_margin: str | None = None
    wm_opacity: str | None = None
    wm_scale: str | None = None
    flip: bool = False
    flop: bool = False
    grayscale: bool = False
    preset: str | None = None

    @property
    def beyond_preset(self) -> bool:
        """Whether options other than `preset` were given (the presets-only policy refuses them to strangers)."""
        return any(getattr(self, f.name) not in (None, False) for f in fields(self) if f.name != "preset")


@dataclass(frozen=True)
class TransformExtras:
    """What rides along with the options: metadata instead of bytes, a share token, a URL signature, and which
    preset was named (`others`: options beyond it were given too, for the presets-only policy)."""

    info: bool = False
    token: str | None = None
    sig: str | None = None
    exp: str | None = None
    preset: str | None = None
    others: bool = False


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
        dpr=params.get("dpr"),
        crop=params.get("crop"),
        gravity=params.get("gravity"),
        fp=params.get("fp"),
        blur=params.get("blur"),
        sharpen=params.get("sharpen"),
        rotate=params.get("rotate"),
        bg=params.get("bg"),
        wm=params.get("wm"),
        wm_gravity=params.get("wm_gravity"),
        wm_margin=params.get("wm_margin"),
        wm_opacity=params.get("wm_opacity"),
        wm_scale=params.get("wm_scale"),
        flip=bool(_typed(_BOOL, params, "flip")),
        flop=bool(_typed(_BOOL, params, "flop")),
        grayscale=bool(_typed(_BOOL, params, "grayscale")),
        preset=params.get("preset"),
    )


def read_option_names(raw: Mapping[str, str]) -> TransformFields:
    """`read_fields` for options spelled as in a URL but sent as a mapping (the signing API): an unknown name is a
    400 naming it."""
    unknown = sorted(set(raw) - OPTION_NAMES)
    if unknown:
        raise InvalidTransform(f"Unknown option {unknown[0]!r}.", field=unknown[0])
    return read_fields(raw)


def read_extras(params: Mapping[str, str]) -> TransformExtras:
    return TransformExtras(
        info=bool(_typed(_BOOL, params, "info")),
        token=params.get("token"),
        sig=params.get("sig"),
        exp=params.get("exp"),
    )


def to_options(fields: TransformFields, defaults: TransformDefaults) -> TransformOptions:
    """The fields as normalised `TransformOptions` (`thumb` becomes its w, h and fit; a preset fills in what the
    request leaves unset)."""
    if fields.preset is not None:
        fields = _with_preset(fields, defaults.presets)
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
            **{name: getattr(fields, name) for name in (*EFFECT_NAMES, *FLAG_NAMES)},
        )
    except InvalidTransform as error:  # name the field as the query spells it
        error.field = QUERY_NAMES.get(error.field or "", error.field)
        raise


def _with_preset(fields: TransformFields, presets: Mapping[str, str]) -> TransformFields:
    """`fields`, with what they leave unset taken from the named preset (whose faults are the preset's)."""
    try:
        given = read_fields(preset_options(presets, fields.preset or ""))
    except InvalidTransform as error:
        error.field = "preset"
        raise
    unset = {f.name: getattr(given, f.name) for f in fields_of(fields) if getattr(fields, f.name) in (None, False)}
    return replace(fields, **unset)


def fields_of(value: TransformFields) -> tuple[Any, ...]:
    return tuple(f for f in fields(value) if f.name != "preset")


def check_preset_query(query: str, defaults: TransformDefaults) -> None:
    """A preset's query must name allowed options (`services.presets.PRESET_KEYS`) with values this parser takes;
    InvalidInput names `query` and, in its message, the option at fault."""
    try:
        given = preset_query(query)
    except ValueError as error:
        raise InvalidInput(f"The preset's query has {error}.", field="query") from None
    if not given:
        raise InvalidInput("A preset sets at least one option, e.g. w=400&h=300&fit=cover.", field="query")
    try:
        to_options(read_fields(given), defaults)
    except InvalidTransform as error:
        raise InvalidInput(f"{error.field}: {error.message}", field="query") from None


def parse_transform_query(
    params: Mapping[str, str], defaults: TransformDefaults
) -> tuple[TransformOptions, TransformExtras]:
    """A transform request's query → its options and extras; raises `InvalidTransform` naming the bad field."""
    given = read_fields(params)
    extras = replace(read_extras(params), preset=given.preset, others=given.beyond_preset)
    return to_options(given, defaults), extras


def transform_query(options: TransformOptions) -> dict[str, str]:
    """The query that asks for exactly `options` (normalised: `thumb` comes out as its w, h and fit)."""
    query = {"w": options.width, "h": options.height, "q": options.quality, "format": options.format}
    found = {name: str(value) for name, value in query.items() if value is not None}
    if options.fit != "inside":
        found["fit"] = options.fit
    if options.enlarge:
        found["enlarge"] = "true"
    return found | effect_query(options)


def effect_query(options: TransformOptions) -> dict[str, str]:
    """The query parameters beyond size, quality and format that ask for `options`."""
    found: dict[str, str] = {}
    if options.crop is not None:
        found["crop"] = options.crop.query()
    if options.gravity == "fp" and options.focal is not None:
        found["fp"] = f"{options.focal[0]:g},{options.focal[1]:g}"
    elif options.gravity is not None:
        found["gravity"] = GRAVITY_WORDS.get(options.gravity, options.gravity)
    numbers = {"blur": options.blur, "sharpen": options.sharpen, "rotate": options.rotate or None}
    found |= {name: f"{value:g}" for name, value in numbers.items() if value}
    found |= {name: "true" for name in FLAG_NAMES if getattr(options, name)}
    if options.background is not None:
        found["bg"] = options.background
    if options.watermark is not None:
        mark = options.watermark
        found |= {"wm": mark.ref, "wm_gravity": mark.gravity, "wm_margin": str(mark.margin)}
        found |= {"wm_opacity": f"{mark.opacity:g}", "wm_scale": f"{mark.scale:g}"}
    return found


def transform_url(image_url: str, options: TransformOptions, signature: dict[str, str]) -> str:
    """`image_url` with the query that asks for `options`, plus the signature parameters."""
    query = urlencode(transform_query(options) | signature)
    return f"{image_url}?{query}" if query else image_url


SRCSET_WIDTHS = (320, 640, 960, 1280, 1920, 2560)


def srcset(
    image: Image,
    image_url: str,
    defaults: TransformDefaults,
    sign: Callable[[TransformOptions], dict[str, str]],
    *,
    format: str | None = None,
) -> str:
    """An `<img srcset>` value: a ladder of widths up to the original's, each URL with the signature `sign` gives
    (the caller signs when signing applies, for the longest time the server allows), so strangers can load every
    size."""
    top = srcset_top_width(image.width, image.height, defaults.limits)
    widths = [width for width in SRCSET_WIDTHS if width < top] + [top]
    entries = []
    for width in widths:
        options = to_options(TransformFields(w=width, format=format), defaults)
        entries.append(f"{transform_url(image_url, options, sign(options))} {width}w")
    return ", ".join(entries)


def srcset_top_width(width: int, height: int, limits: OutputLimits) -> int:
    """The widest entry of a srcset: the original's width, unless the output limits refuse it (a 12000-px
    panorama, or a tall scan whose height at its own width passes `max_height`); then the widest they allow."""
    top = min(width, limits.max_width)
    if height > 0:
        top = min(top, limits.max_height * width // height, math.isqrt(limits.max_pixels * width // height))
        while top > 1 and top * -(-top * height // width) > limits.max_pixels:  # the height rounds up
            top -= 1
    return max(1, top)


EAGER_ACCEPTS = ("image/avif,image/webp", "image/webp", None)
"""One Accept per negotiable answer: what eager presets render so every browser's first view is warm."""


def eager_variants(
    image: Image, names: Iterable[str], defaults: TransformDefaults, policy: Negotiation
) -> list[TransformOptions]:
    """The variants presets `names` (`transforms.eager_presets`) make of `image`, for every format negotiation may
    pick."""
    found: dict[str, TransformOptions] = {}
    for name in names:
        options = to_options(TransformFields(preset=name), defaults)
        for accept in EAGER_ACCEPTS:
            chosen = effective_options(options, image=image, accept=accept, policy=policy).options
            found[chosen.canonical()] = chosen
    return list(found.values())
