"""Process-wide libvips settings, applied where a server process starts (the app's lifespan)."""

from __future__ import annotations

import pyvips
from pyvips import GLogLevelFlags, ffi, glib_lib

# What libvips reports that an operator may need: warnings and errors. Its info messages (a dozen per render:
# "selected loader", "residual reducev", ...) went through pyvips' handler into Python logging, each one a call
# from a libvips worker thread that must take the GIL from the event loop, and a log line at INFO.
_REPORTED = (
    GLogLevelFlags.LEVEL_WARNING
    | GLogLevelFlags.LEVEL_CRITICAL
    | GLogLevelFlags.LEVEL_ERROR
    | GLogLevelFlags.FLAG_FATAL
    | GLogLevelFlags.FLAG_RECURSION
)


def configure_libvips() -> None:
    """No operation cache (variants are cached in the blob store; libvips' cache would only hold memory), and
    only warnings and errors of libvips reach Python logging (GLib's default handler drops the rest)."""
    pyvips.cache_set_max(0)
    handler = getattr(pyvips, "_log_handler_id", None)
    if not handler:
        return  # pyvips changed how it logs, or this already ran
    glib_lib.g_log_remove_handler(b"VIPS", handler)
    pyvips._log_handler_id = glib_lib.g_log_set_handler(b"VIPS", _REPORTED, pyvips._log_handler_cb, ffi.NULL)
