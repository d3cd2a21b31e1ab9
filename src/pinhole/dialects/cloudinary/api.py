"""The Cloudinary upload API the SDKs call: `POST /v1_1/<cloud>/image/upload` and `.../image/destroy`.

Requests are signed as Cloudinary signs them (`api_key`, `timestamp` within an hour, `signature` = SHA-1 of the
sorted parameters + the API secret); they act for `dialects.cloudinary.client_id`. `public_id` (under `folder`)
names the image for this client's delivery URLs; without one the v2 id is the public id. Errors are Cloudinary's
JSON `{"error": {"message"}}`: 401 for credentials and signatures, 400 for bad requests, 404 for another cloud.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from pinhole.api.errors import route_class
from pinhole.api.services import DeliveryDep, ImagesDep
from pinhole.api.uploads import new_image, upload_images
from pinhole.db.models import Image
from pinhole.dialects.cloudinary.accounts import Account, account_for
from pinhole.errors import InvalidApiKey, InvalidInput, NotFound, PinholeError, Unauthorized
from pinhole.proxies import public_ids
from pinhole.proxies.signatures import matches
from pinhole.security.principal import Principal, Via
from pinhole.services.ingest import NewImage
from pinhole.services.uploaders import UploadTarget
from pinhole.uploads.form import ParsedForm

MAX_AGE = 3600
EXTENSIONS = {"jpeg": "jpg"}


def render_api_error(request: Request, error: PinholeError) -> Response:
    status = 404 if isinstance(error, NotFound) else 401 if isinstance(error, Unauthorized) else error.status
    return JSONResponse({"error": {"message": error.message}}, status_code=status, headers=error.response_headers())


router = APIRouter(route_class=route_class(render_api_error))


def _principal(account: Account) -> Principal:
    if account.client_id is None or not any(key.api_key for key in account.keys):
        raise InvalidApiKey("The upload API needs dialects.cloudinary.client_id, api_key and api_secret.")
    return Principal(client_id=account.client_id, via=Via.CLIENT_KEY, credential_id=account.client_id)


def check_request(account: Account, params: dict[str, str], *, now: float) -> None:
    """The request is signed by the account's key whose `api_key` it names, within the hour."""
    given = params.get("api_key", "")
    keys = [key for key in account.keys if key.api_key is not None and matches(given, [key.api_key])]
    if not keys:
        raise InvalidApiKey("Unknown API key.")
    timestamp = params.get("timestamp", "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > MAX_AGE:
        raise InvalidApiKey("Stale request: timestamp is missing or more than an hour away.")
    expected = [public_ids.api_signature(params, key.secret["api_secret"]) for key in keys]
    if not matches(params.get("signature", ""), expected):
        raise InvalidApiKey("Invalid Signature. String to sign is built from the sorted parameters.")


def _public_id(params: dict[str, str]) -> str | None:
    given = params.get("public_id")
    if not given:
        return None
    folder = params.get("folder", "").strip("/")
    return f"{folder}/{given}" if folder else given


def upload_answer(request: Request, prefix: str, cloud: str, image: Image, public_id: str) -> dict[str, Any]:
    version = int(image.created_at.timestamp())
    extension = EXTENSIONS.get(image.format, image.format)
    path = f"{prefix}/{cloud}/image/upload/v{version}/{public_id}.{extension}"
    base = str(request.base_url).rstrip("/")
    return {
        "asset_id": image.id,
        "public_id": public_id,
        "version": version,
        "width": image.width,
        "height": image.height,
        "format": extension,
        "resource_type": "image",
        "type": "upload",
        "created_at": image.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tags": sorted(tag.tag for tag in image.tags) if "tags" in image.__dict__ else [],
        "bytes": image.size,
        "etag": image.content_hash[:32],
        "url": base + path,
        "secure_url": "https://" + base.split("://", 1)[1] + path,
        "original_filename": (image.original_name or "").rsplit(".", 1)[0],
    }


@router.post("/v1_1/{cloud}/image/upload", name="upload", summary="Upload an image (Cloudinary upload API)")
async def upload(request: Request, images: ImagesDep, delivery: DeliveryDep, cloud: str) -> dict[str, Any]:
    mount = delivery.runtime.settings.dialects.cloudinary
    account = await account_for(delivery.runtime, cloud)
    principal = _principal(account)
    named: list[str | None] = []

    async def read(form: ParsedForm, target: UploadTarget) -> list[NewImage]:
        params = {key: values[0] for key, values in form.fields.items() if values}
        check_request(account, params, now=time.time())
        files = form.files_for("file")
        if not files:
            raise InvalidInput("Missing required parameter - file (send the image bytes).", field="file")
        named.append(_public_id(params))
        tags = tuple(tag.strip() for tag in params.get("tags", "").split(",") if tag.strip())
        return [new_image(files[0], target, tags=tags)]

    image = (await upload_images(request, images, principal, read)).images[0]
    public_id = named[0] or image.id
    if named[0]:
        await public_ids.name(delivery.runtime.db, client_id=principal.client_id or "", public_id=public_id,
                              image_id=image.id)  # fmt: skip
    return upload_answer(request, mount.prefix, cloud, image, public_id)


@router.post("/v1_1/{cloud}/image/destroy", name="destroy", summary="Delete an image (Cloudinary upload API)")
async def destroy(request: Request, images: ImagesDep, delivery: DeliveryDep, cloud: str) -> dict[str, str]:
    account = await account_for(delivery.runtime, cloud)
    principal = _principal(account)
    form = await request.form()
    params = {key: str(value) for key, value in form.items()}
    check_request(account, params, now=time.time())
    public_id = params.get("public_id", "")
    client_id = principal.client_id or ""
    image_id = await public_ids.image_for(delivery.runtime.db, client_id=client_id, public_id=public_id) or public_id
    try:
        await images.delete(principal, image_id)
    except NotFound:
        return {"result": "not found"}
    return {"result": "ok"}
