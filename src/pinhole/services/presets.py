"""Presets: named option sets from the settings (`transforms.presets`), e.g. `card = "w=400&h=300&fit=cover"`.

A request names one with `preset=card`; options it also gives override the preset's. With `transforms.presets_only`
callers other than the image's owner may ask for presets only. Presets listed in `transforms.eager_presets` are
rendered in the background right after an upload (docs/transforms.md).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import parse_qsl

from pinhole.errors import Forbidden, InvalidTransform

log = logging.getLogger(__name__)

PRESET_KEYS = frozenset(
    {"w", "h", "q", "format", "fit", "enlarge", "thumb", "dpr", "crop", "gravity", "fp", "blur", "sharpen"}
    | {"rotate", "flip", "flop", "grayscale", "bg", "wm", "wm_gravity", "wm_margin", "wm_opacity", "wm_scale"}
)
"""The query options a preset may set (v2 names)."""


def preset_query(raw: str) -> dict[str, str]:
    """A preset's option string as a dict; ValueError names what is wrong (checked when settings load)."""
    pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=bool(raw))
    names = [name for name, _ in pairs]
    unknown = sorted(set(names) - PRESET_KEYS)
    if unknown or len(set(names)) != len(names):
        raise ValueError(f"unknown or repeated options {unknown or names}; allowed: {', '.join(sorted(PRESET_KEYS))}")
    return dict(pairs)


def preset_options(presets: Mapping[str, str], name: str) -> dict[str, str]:
    """The options of preset `name`; an unknown name is a 400 naming `preset`."""
    found = presets.get(name)
    if found is None:
        raise InvalidTransform(f"No preset is called {name!r}.", field="preset")
    return preset_query(found)


def check_presets_only(*, enabled: bool, owner: bool, preset: str | None, others: bool) -> None:
    """With the presets-only policy, a caller who is not the owner may transform by `preset` alone."""
    if enabled and not owner and others:
        raise Forbidden("Only presets may be asked for here: use preset=<name> alone.", field="preset")
