"""Process-wide libvips settings, applied where a server process starts (the app's lifespan)."""

from __future__ import annotations

import logging

import pyvips

# libvips reports a dozen info messages per render ("selected loader", "residual reducev", ...); pyvips hands each
# to the `pyvips` logger, which under a server's INFO level wrote each as a log line. Warnings and errors stay.
VIPS_LOG_LEVEL = logging.WARNING


def configure_libvips() -> None:
    """No operation cache (variants are cached in the blob store; libvips' cache would only hold memory), and
    only libvips' warnings and errors in the log."""
    pyvips.cache_set_max(0)
    logging.getLogger("pyvips").setLevel(VIPS_LOG_LEVEL)
