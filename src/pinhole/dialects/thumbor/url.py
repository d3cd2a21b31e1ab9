"""thumbor's URL grammar, parsed into what it asks for (no image work here).

`/<unsafe|signature>/[trim/][AxB:CxD/][fit-in/|full-fit-in/|adaptive-fit-in/][-]Wx[-]H/[halign/][valign/][smart/]
[filters:f(a):.../]<image>`: the parts are optional and in this order, as thumbor reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pinhole.errors import InvalidTransform

_URL = re.compile(
    r"(?:(?P<trim>trim(?::[a-z-]+)?(?::\d+)?)/)?"
    r"(?:(?P<crop>\d+x\d+:\d+x\d+)/)?"
    r"(?:(?P<adaptive>adaptive-)?(?P<full>full-)?(?P<fit_in>fit-in)/)?"
    r"(?:(?P<flip_h>-)?(?P<width>\d+|orig)?x(?P<flip_v>-)?(?P<height>\d+|orig)?/)?"
    r"(?:(?P<halign>left|right|center)/)?"
    r"(?:(?P<valign>top|bottom|middle)/)?"
    r"(?:(?P<smart>smart)/)?"
    r"(?:filters:(?P<filters>.*?\))/)?"
    r"(?P<image>.+)$"
)
_FILTER = re.compile(r"(?P<name>[a-z_]+)\((?P<args>[^)]*)\)")


@dataclass(frozen=True)
class Filter:
    name: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class ThumborUrl:
    """One thumbor request: `signature` is None for `unsafe`; `signed_part` is what the signature covers."""

    signature: str | None
    signed_part: str
    image: str
    width: str | None = None  # digits, "orig" or None (proportional)
    height: str | None = None
    fit_in: bool = False
    full_fit_in: bool = False
    adaptive: bool = False
    flip: bool = False  # -W: mirrored left to right
    flip_v: bool = False  # -H: upside down
    trim: bool = False
    crop: str | None = None
    halign: str | None = None
    valign: str | None = None
    smart: bool = False
    filters: tuple[Filter, ...] = field(default=())


def parse(path: str) -> ThumborUrl:
    """`path` is the raw URL path after the dialect's prefix, starting with `/`."""
    head, _, rest = path.removeprefix("/").partition("/")
    if not rest:
        raise InvalidTransform("Malformed URL: expected /<signature|unsafe>/.../<image>.")
    found = _URL.match(rest)
    if found is None:
        raise InvalidTransform("Malformed URL.")
    parts = found.groupdict()
    return ThumborUrl(
        signature=None if head == "unsafe" else head,
        signed_part=rest,
        image=parts["image"],
        width=parts["width"],
        height=parts["height"],
        fit_in=bool(parts["fit_in"]) and not parts["full"],
        full_fit_in=bool(parts["full"]),
        adaptive=bool(parts["adaptive"]),
        flip=bool(parts["flip_h"]),
        flip_v=bool(parts["flip_v"]),
        trim=bool(parts["trim"]),
        crop=parts["crop"],
        halign=parts["halign"],
        valign=parts["valign"],
        smart=bool(parts["smart"]),
        filters=_filters(parts["filters"]),
    )


def _filters(text: str | None) -> tuple[Filter, ...]:
    if not text:
        return ()
    found = []
    position = 0
    for match in _FILTER.finditer(text):
        if text[position : match.start()].strip(":"):
            raise InvalidTransform(f"Malformed filters: {text!r}.")
        args = tuple(arg.strip() for arg in match.group("args").split(",")) if match.group("args") else ()
        found.append(Filter(match.group("name"), args))
        position = match.end()
    if text[position:].strip(":"):
        raise InvalidTransform(f"Malformed filters: {text!r}.")
    return tuple(found)
