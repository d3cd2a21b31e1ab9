"""The APIs pinhole speaks, in mounting order: the native v2 API first, then one module per other service's API.

Each module maps its document's paths, fields, status codes and JSON shapes onto the shared services and
exposes a `DIALECT` (`pinhole.api.mounting.Dialect`); its mount (`enabled`, `prefix`) is `settings.dialects.<name>`.
"""

from __future__ import annotations

from pinhole.api.mounting import Dialect
from pinhole.dialects import cloudinary, imgix, imgproxy, slink, thumbor, uploadkey, userimages, userphotos, v2

DIALECTS: tuple[Dialect, ...] = (
    v2.DIALECT,
    userphotos.DIALECT,
    uploadkey.DIALECT,
    userimages.DIALECT,
    slink.DIALECT,
    thumbor.DIALECT,
    imgproxy.DIALECT,
    imgix.DIALECT,
    cloudinary.DIALECT,
)
