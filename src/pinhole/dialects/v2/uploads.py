"""`/v2/uploads`: resumable uploads over tus 1.0 (core, creation, creation-with-upload, termination, expiration,
checksum).

Same credentials, size limit and quotas as `POST /v2/images`; `Upload-Metadata` carries its fields (`filename`,
or `name` as Uppy sends it, `description`, `tags`, `albumId`, `isPrivate`). An upload is visible only to the caller
who created it (same tenant and owner); anyone else gets 404. Once the last byte is in, HEAD and GET answer the new
image's id in `Pinhole-Image-Id`, and GET the image's v2 JSON (before that, GET answers 202 with the progress).
Errors are the v2 JSON shape with tus' statuses (409 offset, 410 expired, 412 version, 415 content type, 460
checksum). Every answer carries `Tus-Resumable`. Thin routes: the work is `pinhole.services.resumable`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from pinhole.api.answers import raises
from pinhole.api.deps import RuntimeDep, public_base_url
from pinhole.api.params import parse_bool
from pinhole.api.principals import UploaderPrincipal
from pinhole.api.services import ImagesDep
from pinhole.dialects.v2.errors import V2Route
from pinhole.dialects.v2.images import MAX_DESCRIPTION, to_public
from pinhole.dialects.v2.schemas import ImagePublic
from pinhole.errors import (
    ChecksumMismatch,
    DatabaseBusy,
    InvalidInput,
    PayloadTooLarge,
    QuotaExceeded,
    UnsupportedMediaType,
)
from pinhole.runtime import Runtime
from pinhole.security.principal import Principal
from pinhole.services import albums, uploaders
from pinhole.services.resumable import UploadFields, UploadState
from pinhole.services.tags import split_tag_fields
from pinhole.services.uploaders import UploadTarget
from pinhole.uploads import tus
from pinhole.uploads.reader import clean_filename

IMAGE_ID_HEADER = "Pinhole-Image-Id"


class TusRoute(V2Route):  # type: ignore[valid-type,misc]
    """v2 routes whose every answer, errors included, names the protocol version (tus requires it)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            response: Response = await handler(request)
            response.headers["Tus-Resumable"] = tus.VERSION
            return response

        return handle


router = APIRouter(prefix="/uploads", tags=["v2"], route_class=TusRoute)


def _header(name: str, description: str, *, required: bool = True, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "header", "required": required, "description": description, "schema": {"type": kind}}


# The protocol's headers and PATCH body, for the OpenAPI document (the routes read them from the request).
_VERSION_HEADER = _header("Tus-Resumable", "The protocol version: 1.0.0.")
CREATE_DOC: dict[str, Any] = {
    "parameters": [
        _VERSION_HEADER,
        _header("Upload-Length", "The file's size in bytes (413 above the largest accepted file).", kind="integer"),
        _header(
            "Upload-Metadata",
            "`key base64(value)` pairs: filename, description, tags, albumId, isPrivate.",
            required=False,
        ),
    ]
}
RESULT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": ImagePublic, "description": "The upload is complete: the image it made."},
    202: {
        "description": "Bytes are still missing: how many are in.",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["offset", "length", "expiresAt"],
                    "properties": {
                        "offset": {"type": "integer", "minimum": 0},
                        "length": {"type": "integer", "minimum": 0},
                        "expiresAt": {"type": "string", "format": "date-time"},
                    },
                },
                "example": {"offset": 8388608, "length": 26214400, "expiresAt": "2026-01-31T12:00:00+00:00"},
            }
        },
    },
}
APPEND_DOC: dict[str, Any] = {
    "parameters": [
        _VERSION_HEADER,
        _header("Upload-Offset", "Where these bytes go: the offset HEAD answered.", kind="integer"),
        _header("Upload-Checksum", "`sha1 <base64 digest>` of this PATCH's bytes.", required=False),
    ],
    "requestBody": {
        "required": True,
        "content": {"application/offset+octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
}


def upload_url(request: Request, runtime: Runtime, upload_id: str) -> str:
    return f"{public_base_url(request)}{runtime.settings.v2.prefix}/uploads/{upload_id}"


def progress_headers(state: UploadState) -> dict[str, str]:
    headers = {
        "Upload-Offset": str(state.received),
        "Upload-Expires": tus.http_date(state.expires_at),
        "Cache-Control": "no-store",
    }
    if state.image_id is not None:
        headers[IMAGE_ID_HEADER] = state.image_id
    return headers


async def upload_fields(runtime: Runtime, principal: Principal, client_id: str, header: str | None) -> UploadFields:
    meta = tus.parse_metadata(header)
    description = meta.get("description") or None
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"description must be at most {MAX_DESCRIPTION} characters.", field="description")
    album_ref = (meta.get("albumId") or "").strip()
    album_id = None
    if album_ref:
        album_id = await albums.album_for_upload(db=runtime.db, principal=principal, ref=album_ref, client_id=client_id)
    name = meta.get("filename") or meta.get("name") or ""
    return UploadFields(
        filename=clean_filename(name.encode()),
        description=description,
        tags=split_tag_fields([meta["tags"]] if meta.get("tags") else []),
        is_private=parse_bool(meta.get("isPrivate"), field="isPrivate"),
        album_id=album_id,
    )


@router.options("", name="uploads.options", status_code=204, summary="tus: what this server supports")
@router.options("/{upload_id}", name="uploads.options", status_code=204, include_in_schema=False)
async def discover(runtime: RuntimeDep) -> Response:
    return Response(status_code=204, headers=tus.discovery_headers(runtime.settings.uploads.max_file_bytes))


@router.post(
    "",
    name="uploads.create",
    status_code=201,
    response_class=Response,  # no body: Location names the upload
    summary="tus: start a resumable upload",
    openapi_extra=CREATE_DOC,
)
@raises(InvalidInput, PayloadTooLarge, QuotaExceeded)  # Upload-Length over the limit: 413
async def create_upload(request: Request, runtime: RuntimeDep, principal: UploaderPrincipal) -> Response:
    tus.check_version(request.headers)
    length = tus.read_number(request.headers, "Upload-Length")
    target = await uploaders.upload_target(db=runtime.db, principal=principal)
    header = request.headers.get("upload-metadata")
    fields = await upload_fields(runtime, principal, target.client_id, header)
    with_bytes = tus.carries_bytes(request.headers)  # creation-with-upload: the first bytes come with the creation
    checksum = tus.parse_checksum(request.headers.get("upload-checksum")) if with_bytes else None
    state = await runtime.resumable.create(target=target, length=length, fields=fields, metadata_header=header)
    if with_bytes:
        state = await first_bytes(request, runtime, target, state, checksum)
    headers = {"Location": upload_url(request, runtime, state.id)} | progress_headers(state)
    return Response(status_code=201, headers=headers)


async def first_bytes(
    request: Request, runtime: Runtime, target: UploadTarget, state: UploadState, checksum: tus.Checksum | None
) -> UploadState:
    """Append the creation request's body at offset 0. Bytes that fail their checksum are not kept, but the upload
    exists: 201 with `Upload-Offset: 0`, and the client sends them again with PATCH."""
    try:
        return await runtime.resumable.append(state.id, target, offset=0, body=request.stream(), checksum=checksum)
    except ChecksumMismatch:
        return state


@router.head("/{upload_id}", name="uploads.status", response_class=Response, summary="tus: how many bytes are in")
@raises(InvalidInput, DatabaseBusy)  # Tus-Resumable is checked
async def upload_status(
    request: Request, runtime: RuntimeDep, principal: UploaderPrincipal, upload_id: str
) -> Response:
    tus.check_version(request.headers)
    target = await uploaders.upload_target(db=runtime.db, principal=principal)
    state = await runtime.resumable.find(upload_id, target)
    headers = progress_headers(state) | {"Upload-Length": str(state.length)}
    if state.metadata_header:
        headers["Upload-Metadata"] = state.metadata_header
    return Response(status_code=200, headers=headers)


@router.get(
    "/{upload_id}",
    name="uploads.result",
    response_model=None,
    responses=RESULT_RESPONSES,
    summary="The image a finished upload made (202 until then)",
)
async def upload_result(
    request: Request, runtime: RuntimeDep, images: ImagesDep, principal: UploaderPrincipal, upload_id: str
) -> Response:
    target = await uploaders.upload_target(db=runtime.db, principal=principal)
    state = await runtime.resumable.find(upload_id, target)
    image = await runtime.resumable.image_of(state)
    headers = progress_headers(state) | {"Upload-Length": str(state.length)}
    if image is None:
        progress = {"offset": state.received, "length": state.length, "expiresAt": state.expires_at.isoformat()}
        return JSONResponse(progress, status_code=202, headers=headers)
    public = await to_public(request, images, image)
    return Response(public.model_dump_json(by_alias=True), media_type="application/json", headers=headers)


@router.patch(
    "/{upload_id}",
    name="uploads.append",
    status_code=204,
    response_class=Response,
    summary="tus: send bytes",
    openapi_extra=APPEND_DOC,
)
@raises(UnsupportedMediaType)  # the body is an image upload (api.answers); its type must be offset+octet-stream
async def append_bytes(request: Request, runtime: RuntimeDep, principal: UploaderPrincipal, upload_id: str) -> Response:
    tus.check_version(request.headers)
    tus.check_patch_content_type(request.headers)
    offset = tus.read_number(request.headers, "Upload-Offset")
    checksum = tus.parse_checksum(request.headers.get("upload-checksum"))
    target = await uploaders.upload_target(db=runtime.db, principal=principal)
    state = await runtime.resumable.append(upload_id, target, offset=offset, body=request.stream(), checksum=checksum)
    return Response(status_code=204, headers=progress_headers(state))


@router.delete(
    "/{upload_id}", name="uploads.terminate", status_code=204, response_class=Response, summary="tus: abandon an upload"
)
@raises(InvalidInput, DatabaseBusy)
async def terminate_upload(
    request: Request, runtime: RuntimeDep, principal: UploaderPrincipal, upload_id: str
) -> Response:
    tus.check_version(request.headers)
    target = await uploaders.upload_target(db=runtime.db, principal=principal)
    await runtime.resumable.terminate(upload_id, target)
    return Response(status_code=204)
