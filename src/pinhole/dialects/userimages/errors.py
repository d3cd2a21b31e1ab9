"""The userimages error shape: its document shows none, so errors keep pinhole's own
`{"error": {"code", "message", "status", "field"}}` (the v2 renderer), statuses included."""

from __future__ import annotations

from pinhole.api.error_shape import ERROR_RESPONSES, render_error
from pinhole.api.errors import route_class

__all__ = ["ERROR_RESPONSES", "UserimagesRoute", "render_error"]

UserimagesRoute = route_class(render_error)
