"""The v2 error shape (`api.error_shape`) as v2's route class."""

from __future__ import annotations

from pinhole.api.error_shape import ERROR_RESPONSES, render_error
from pinhole.api.errors import route_class

__all__ = ["ERROR_RESPONSES", "V2Route", "render_error"]

V2Route = route_class(render_error)
