"""Reading loosely typed request values (form fields, raw query strings) the same way in every API."""

from __future__ import annotations

from pinhole.errors import InvalidInput

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})


def flag(value: str) -> bool | None:
    """True/False for the usual spellings of a boolean, None for anything else."""
    lowered = value.strip().lower()
    return True if lowered in TRUE_WORDS else False if lowered in FALSE_WORDS else None


def parse_bool(value: str | None, *, field: str) -> bool:
    """A boolean form field: absent or empty is False, an unknown spelling is a 400 naming the field."""
    if value is None or not value.strip():
        return False
    parsed = flag(value)
    if parsed is None:
        raise InvalidInput(f"{field} must be true or false.", field=field)
    return parsed
