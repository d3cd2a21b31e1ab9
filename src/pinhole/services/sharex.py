"""ShareX custom uploader configs (`.sxcu`) for upload keys.

The format is ShareX's JSON export (https://getsharex.com/docs/custom-uploader): from ShareX 14 on, values parse
responses with `{json:path}` (older files used `$json:path$` and are converted by ShareX when `Version` is older
than 14). The config posts the file as the `file` field of a multipart form with the key in `X-Upload-Key`, and
reads the link from the `url` of the v2 upload response, or the reason from its `error.message`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

SXCU_VERSION = "15.0.0"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def sharex_config(*, upload_url: str, key: str, name: str) -> dict[str, Any]:
    """The config of one upload key; `upload_url` is this server's absolute `POST /v2/images` URL."""
    host = urlsplit(upload_url).netloc or "pinhole"
    return {
        "Version": SXCU_VERSION,
        "Name": f"{host} ({name})",
        "DestinationType": "ImageUploader",
        "RequestMethod": "POST",
        "RequestURL": upload_url,
        "Headers": {"X-Upload-Key": key},
        "Body": "MultipartFormData",
        "FileFormName": "file",
        "URL": "{json:url}",
        "ErrorMessage": "{json:error.message}",
    }


def sharex_filename(name: str) -> str:
    """`pinhole-<name>.sxcu`, with the name cut down to characters safe in a Content-Disposition header."""
    safe = _UNSAFE.sub("-", name).strip(".-")[:60] or "upload-key"
    return f"pinhole-{safe}.sxcu"
