"""v2 query options (`w`, `h`, `q`, `format`, `thumb`, `fit`) → the shared `TransformOptions`, and back.

`sig` and `exp` (a URL signature) ride along in the same query but are not options: they never change the
canonical options, so a signed and an unsigned request for one variant share its cache entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Literal, NamedTuple
from urllib.parse import urlencode

from fastapi import Depends, Query

from pinhole.api.deps import RuntimeDep
from pinhole.api.params import flag
from pinhole.db.models import Image
from pinhole.errors import InvalidTransform
from pinhole.imaging.options import OutputLimits, TransformOptions, make_transform
from pinhole.runtime import Runtime
from pinhole.security.policy import Owned
from pinhole.security.principal import Principal
from pinhole.security.signing import SigningMode, signature_required
from pinhole.services.presets import preset_options
from pinhole.services.signed_urls import sign_transform
from pinhole.services.variant_options import effective_options, negotiation_policy

QUERY_NAMES = {"width": "w", "height": "h", "quality": "q"}
GRAVITY_WORDS = {"ce": "centre", "sm": "smart", "en": "entropy"}


class Effects(NamedTuple):
    """The options beyond size, quality and format, as the query gives them (docs/transforms.md)."""

    dpr: str | None = None
    crop: str | None = None
    gravity: str | None = None
    fp: str | None = None
    blur: str | None = None
    sharpen: str | None = None
    rotate: str | None = None
    flip: bool = False
    flop: bool = False
    grayscale: bool = False
    bg: str | None = None
    wm: str | None = None
    wm_gravity: str | None = None
    wm_margin: str | None = None
    wm_opacity: str | None = None
    wm_scale: str | None = None


EFFECT_FLAGS = frozenset({"flip", "flop", "grayscale"})


def effects_from(raw: Mapping[str, str]) -> Effects:
    """`Effects` from options spelled as in a URL; an unknown name is a 400 naming it."""
    unknown = sorted(set(raw) - set(Effects._fields))
    if unknown:
        raise InvalidTransform(f"Unknown option {unknown[0]!r}.", field=unknown[0])
    values: dict[str, object] = {}
    for name, value in raw.items():
        if name in EFFECT_FLAGS:
            parsed = flag(value)
            if parsed is None:
                raise InvalidTransform(f"{name} must be true or false.", field=name)
            values[name] = parsed
        else:
            values[name] = value
    return Effects._make(values.get(name, default) for name, default in Effects._field_defaults.items())


@dataclass(frozen=True)
class ServeQuery:
    info: bool
    token: str | None
    options: TransformOptions
    sig: str | None = None
    exp: str | None = None
    preset: str | None = None
    others: bool = False  # options beyond `preset` were given (the presets-only policy refuses them to strangers)


async def serve_query(
    runtime: RuntimeDep,
    w: Annotated[int | None, Query(description="Resize width (pixels).", examples=[800])] = None,
    h: Annotated[int | None, Query(description="Resize height (pixels).")] = None,
    q: Annotated[int | None, Query(description="Quality, 1-100.")] = None,
    format: Annotated[
        str | None, Query(description="Output format: jpeg, png, webp, avif or gif.", examples=["webp"])
    ] = None,
    thumb: Annotated[bool, Query(description="Serve a square thumbnail (cropped to fill).")] = False,
    fit: Annotated[
        Literal["inside", "cover", "fill", "pad", "outside"] | None,
        Query(
            description="inside (default) keeps the aspect ratio; cover crops to exactly w x h; fill stretches; "
            "pad letterboxes onto exactly w x h (bg); outside covers w x h without cropping."
        ),
    ] = None,
    enlarge: Annotated[bool, Query(description="Allow output larger than the original.")] = False,
    dpr: Annotated[str | None, Query(description="Device pixel ratio, 1-4: multiplies w and h.")] = None,
    crop: Annotated[str | None, Query(description="Region x,y,w,h cut before resizing (pixels or fractions).")] = None,
    gravity: Annotated[
        str | None, Query(description="Where cover/pad place: n, ne, e, se, s, sw, w, nw, centre, smart, entropy.")
    ] = None,
    fp: Annotated[str | None, Query(description="Focal point x,y (fractions) a cover crop centres on.")] = None,
    blur: Annotated[str | None, Query(description="Gaussian blur sigma (0-100).")] = None,
    sharpen: Annotated[str | None, Query(description="Sharpen sigma (0-10); empty or true: 1.")] = None,
    rotate: Annotated[str | None, Query(description="Rotate clockwise: 90, 180 or 270.")] = None,
    flip: Annotated[bool, Query(description="Turn upside down.")] = False,
    flop: Annotated[bool, Query(description="Mirror left to right.")] = False,
    grayscale: Annotated[bool, Query(description="Grey pixels.")] = False,
    bg: Annotated[str | None, Query(description="Background RRGGBB[AA] for pad and for flattening alpha.")] = None,
    wm: Annotated[
        str | None, Query(description="Watermark: the id of an image of the same client, or site (the configured one).")
    ] = None,
    wm_gravity: Annotated[str | None, Query(description="Watermark place: a compass point (default se).")] = None,
    wm_margin: Annotated[str | None, Query(description="Watermark distance to the edges, pixels (default 16).")] = None,
    wm_opacity: Annotated[str | None, Query(description="Watermark opacity, above 0 to 1 (default 0.5).")] = None,
    wm_scale: Annotated[str | None, Query(description="Watermark width / output width (default 0.25).")] = None,
    preset: Annotated[
        str | None, Query(description="A named option set (`transforms.presets`); other options override its own.")
    ] = None,
    info: Annotated[bool, Query(description="Return the image's metadata as JSON instead of the image.")] = False,
    token: Annotated[str | None, Query(description="Share token for a private image.")] = None,
    t: Annotated[str | None, Query(description="Cache-busting value; ignored.")] = None,
    sig: Annotated[
        str | None,
        Query(description="URL signature (`POST /images/{id}/sign` makes signed URLs); checked only where needed."),
    ] = None,
    exp: Annotated[str | None, Query(description="Expiry of the URL signature (epoch seconds).")] = None,
) -> ServeQuery:
    effects = Effects(
        dpr,
        crop,
        gravity,
        fp,
        blur,
        sharpen,
        rotate,
        flip,
        flop,
        grayscale,
        bg,
        wm,
        wm_gravity,
        wm_margin,
        wm_opacity,
        wm_scale,
    )
    options = v2_options(
        runtime, w=w, h=h, q=q, format=format, thumb=thumb, fit=fit, enlarge=enlarge, more=effects, preset=preset
    )
    others = any(v not in (None, False) for v in (w, h, q, format, fit, *effects)) or thumb or enlarge
    return ServeQuery(info=info, token=token, options=options, sig=sig, exp=exp, preset=preset, others=others)


def v2_options(
    runtime: Runtime,
    *,
    w: int | None,
    h: int | None,
    q: int | None,
    format: str | None,
    thumb: bool,
    fit: str | None,
    enlarge: bool,
    more: Effects | None = None,
    preset: str | None = None,
) -> TransformOptions:
    """The v2 query options as `TransformOptions` (shared by the route and the warm fast path)."""
    return parse_v2_options(
        more=more,
        preset=preset,
        presets=runtime.settings.transforms.presets,
        thumbnail_size=runtime.settings.imaging.thumbnail_size,
        limits=runtime.output_limits,
        w=w,
        h=h,
        q=q,
        format=format,
        thumb=thumb,
        fit=fit,
        enlarge=enlarge,
    )


def parse_v2_options(
    *,
    thumbnail_size: int,
    limits: OutputLimits,
    w: int | None,
    h: int | None,
    q: int | None,
    format: str | None,
    thumb: bool,
    fit: str | None,
    enlarge: bool,
    more: Effects | None = None,
    preset: str | None = None,
    presets: Mapping[str, str] | None = None,
) -> TransformOptions:
    """`v2_options` without a runtime (the CLI has none)."""
    if preset is not None:
        try:
            given = preset_options(presets or {}, preset)
            w, h, q = _or_int(w, given, "w"), _or_int(h, given, "h"), _or_int(q, given, "q")
            format, fit = format or given.get("format"), fit or given.get("fit")
            thumb, enlarge = thumb or _flag(given, "thumb"), enlarge or _flag(given, "enlarge")
            more = _or_effects(more or Effects(), given)
        except InvalidTransform as error:
            error.field = "preset"  # the preset is at fault, not the request
            raise
    if thumb:
        w, h, fit = w or thumbnail_size, h or thumbnail_size, fit or "cover"
    extra = (more or Effects())._asdict()
    try:
        return make_transform(
            width=w, height=h, fit=fit, quality=q, format=format, enlarge=enlarge, limits=limits, **extra
        )
    except InvalidTransform as error:  # name the field as this API's clients sent it
        error.field = QUERY_NAMES.get(error.field or "", error.field)
        raise


def _or_int(value: int | None, given: Mapping[str, str], name: str) -> int | None:
    if value is not None or name not in given:
        return value
    if not given[name].isdigit():
        raise InvalidTransform(f"The preset's {name} is not a whole number.", field="preset")
    return int(given[name])


def _flag(given: Mapping[str, str], name: str) -> bool:
    return name in given and bool(flag(given[name]) or given[name] == "")


def _or_effects(more: Effects, given: Mapping[str, str]) -> Effects:
    """`more`, with what it leaves unset taken from the preset."""
    merged = {
        name: value
        if value not in (None, False)
        else (_flag(given, name) if isinstance(value, bool) else given.get(name))
        for name, value in more._asdict().items()
    }
    return Effects._make(merged.values())


def v2_query(options: TransformOptions) -> dict[str, str]:
    """The v2 serve query that asks for exactly `options` (normalised: `thumb` comes out as its w, h and fit)."""
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
    found |= {name: "true" for name in ("flip", "flop", "grayscale") if getattr(options, name)}
    if options.background is not None:
        found["bg"] = options.background
    if options.watermark is not None:
        mark = options.watermark
        found |= {"wm": mark.ref, "wm_gravity": mark.gravity, "wm_margin": str(mark.margin)}
        found |= {"wm_opacity": f"{mark.opacity:g}", "wm_scale": f"{mark.scale:g}"}
    return found


def transform_url(image_url: str, options: TransformOptions, signature: dict[str, str]) -> str:
    """`image_url` with the query that asks for `options`, plus the signature parameters."""
    query = urlencode(v2_query(options) | signature)
    return f"{image_url}?{query}" if query else image_url


def check_signature(
    runtime: Runtime, query: ServeQuery, *, principal: Principal, image: Owned, image_id: str, token_grants: bool
) -> float | None:
    """Raise an InvalidSignature when this transform must be signed and is not validly signed.

    Returns the seconds a checked signature has left; None when it never expires or none was needed.
    """
    mode = runtime.signing_mode
    if not signature_required(mode, principal=principal, image=image, options=query.options, token_grants=token_grants):
        return None
    return runtime.signer.verify(image_id, query.options, sig=query.sig, exp=query.exp)


ServeQueryDep = Annotated[ServeQuery, Depends(serve_query)]


EAGER_ACCEPTS = ("image/avif,image/webp", "image/webp", None)
"""One Accept per negotiable answer: what eager presets render so every browser's first view is warm."""


def eager_variants(runtime: Runtime, image: Image) -> list[TransformOptions]:
    """The variants `transforms.eager_presets` make of `image`, for every format negotiation may pick."""
    policy = negotiation_policy(runtime.settings.transforms)
    found: dict[str, TransformOptions] = {}
    for name in runtime.settings.transforms.eager_presets:
        options = v2_options(
            runtime, w=None, h=None, q=None, format=None, thumb=False, fit=None, enlarge=False, preset=name
        )
        for accept in EAGER_ACCEPTS:
            chosen = effective_options(options, image=image, accept=accept, policy=policy).options
            found[chosen.canonical()] = chosen
    return list(found.values())


SRCSET_WIDTHS = (320, 640, 960, 1280, 1920, 2560)


def srcset(runtime: Runtime, image: Image, image_url: str, *, format: str | None = None) -> str:
    """An `<img srcset>` value: a ladder of widths up to the original's, each URL signed when signing applies
    (valid for the longest time the server allows), so strangers can load every size."""
    widths = [width for width in SRCSET_WIDTHS if width < image.width] + [image.width]
    expires_in = runtime.settings.signing.max_expiry_days * 86_400
    entries = []
    for width in widths:
        options = v2_options(runtime, w=width, h=None, q=None, format=format, thumb=False, fit=None, enlarge=False)
        signature = {}
        if runtime.signing_mode is not SigningMode.OFF:
            signed = sign_transform(signer=runtime.signer, image_id=image.id, options=options, expires_in=expires_in)
            signature = signed.params
        entries.append(f"{transform_url(image_url, options, signature)} {width}w")
    return ", ".join(entries)
