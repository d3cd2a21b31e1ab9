"""Small readers of posted forms shared by several pages."""

from __future__ import annotations

from starlette.datastructures import FormData

from pinhole.errors import InvalidInput
from pinhole.services import listing

MAX_BULK = listing.MAX_LIMIT


def selected_ids(form: FormData) -> list[str]:
    """The images ticked in a grid (`ids` fields): at least one, at most `MAX_BULK`, each once."""
    ids = [value for value in form.getlist("ids") if isinstance(value, str) and value]
    if not ids:
        raise InvalidInput("Select at least one image.", field="ids")
    if len(ids) > MAX_BULK:
        raise InvalidInput(f"Select at most {MAX_BULK} images at once.", field="ids")
    return list(dict.fromkeys(ids))
