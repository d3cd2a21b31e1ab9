"""v2 image routes: upload, list, serve / info, update, delete, share links."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response

from pinhole.api.credentials import authenticate
from pinhole.api.deps import DatabaseDep, RuntimeDep
from pinhole.api.params import BINARY, is_json, multipart_body, parse_bool, read_json
from pinhole.api.principals import ClientPrincipal, OptionalPrincipal, UploaderPrincipal
from pinhole.api.services import DeliveryDep, ImagesDep, get_services
from pinhole.api.uploads import Received, UploadRules, new_image, receive_form
from pinhole.api.urls import image_url, url_for
from pinhole.db.models import Image
from pinhole.dialects.v2.errors import V2Route
from pinhole.dialects.v2.group_schemas import GroupUpload
from pinhole.dialects.v2.image_listing import ImageListQuery, pagination
from pinhole.dialects.v2.schemas import (
    FocalPoint,
    ImageFromUrl,
    ImageList,
    ImagePublic,
    ImageUpdate,
    Location,
    PlaceholderPublic,
    ShareCreate,
    SharePublic,
)
from pinhole.dialects.v2.transform import ServeQueryDep
from pinhole.errors import ImageNotFound, InvalidInput
from pinhole.security import policy
from pinhole.services import albums, listing, placeholders, shares
from pinhole.services import images as image_service
from pinhole.services.ingest import NewImage
from pinhole.services.library import Images
from pinhole.services.tags import normalize_tags, split_tag_fields
from pinhole.services.uploaders import UploadTarget
from pinhole.services.url_uploads import fetched_upload, url_field
from pinhole.uploads.multipart import ParsedForm, UploadedFile

router = APIRouter(tags=["v2"], route_class=V2Route)

MAX_DESCRIPTION = 2000
UPLOAD_BODY = multipart_body(
    {
        "file": {
            "type": "array",
            "items": BINARY,
            "description": "An image in any input format (docs/formats.md). Several `file` parts are stored "
            "all or nothing as one group (201 `{groupId, data}`); one file answers the image itself.",
        },
        "tags": {"type": "array", "items": {"type": "string"}, "description": "Text tags."},
        "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
        "isPrivate": {"type": "boolean", "default": False},
        "albumId": {
            "type": "string",
            "description": "Add the image to this album of the caller's (our id or its albumId).",
        },
        "url": {
            "type": "string",
            "format": "uri",
            "description": "Instead of `file`: an http(s) URL pinhole fetches the image from (docs/uploads.md).",
        },
    },
    required=[],
)
# The same upload as JSON, for an image that is already online: `{"url": ..., "description": ..., ...}`.
UPLOAD_BODY["requestBody"]["content"]["application/json"] = {
    "schema": ImageFromUrl.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
}


def placeholder_fields(image: Image) -> PlaceholderPublic | None:
    found = placeholders.of_image(image)
    return None if found is None else PlaceholderPublic(**dataclasses.asdict(found))


async def to_public(request: Request, images: Images, image: Image) -> ImagePublic:
    return ImagePublic(
        id=image.id,
        url=image_url(request, image.id),
        original_name=image.original_name,
        description=image.description,
        tags=image.tag_names,
        is_private=image.is_private,
        external_user_id=image.owner_id,
        mime_type=image.mime_type,
        format=image.format,
        width=image.width,
        height=image.height,
        frames=image.frames,
        size=image.size,
        group_id=image.group_id,
        focal_point=_focal_point(image),
        srcset=(await get_services(request)).delivery.srcset(image, image_url(request, image.id)),
        views=await images.views(image),
        created_at=image.created_at,
        updated_at=image.updated_at,
        placeholder=placeholder_fields(image),
        taken_at=image.taken_at,
        camera=image.camera,
        lens=image.lens,
        location=await _location(request, image),
    )


async def _location(request: Request, image: Image) -> Location | None:
    """The stored position, to who may change the image only (a public image's info is anyone's to read)."""
    if image.latitude is None or image.longitude is None:
        return None
    if not policy.can_modify_image(await authenticate(request, request.app.state.runtime), image):
        return None
    return Location(latitude=image.latitude, longitude=image.longitude)


def _focal_point(image: Image) -> FocalPoint | None:
    found = image.focal_point
    return None if found is None else FocalPoint(x=found[0], y=found[1])


def _json(body: ImagePublic) -> Response:
    return Response(body.model_dump_json(by_alias=True), media_type="application/json")


def upload_fields(
    form: ParsedForm, target: UploadTarget, album_id: str | None, remote: UploadedFile | None = None
) -> list[NewImage]:
    files = form.files_for("file") or ([remote] if remote is not None else [])
    if not files:
        raise InvalidInput("Send the image in the `file` form field (or its address in `url`).", field="file")
    description = form.first("description")
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"description must be at most {MAX_DESCRIPTION} characters.", field="description")
    tags = split_tag_fields(form.fields.get("tags", []) + form.fields.get("tags[]", []))
    is_private = parse_bool(form.first("isPrivate"), field="isPrivate")
    return [
        new_image(file, target, description=description or None, tags=tags, is_private=is_private, album_id=album_id)
        for file in files
    ]


@router.post(
    "/images",
    name="images.upload",
    status_code=201,
    summary="Upload an image, or several as a group",
    response_model=ImagePublic | GroupUpload,
    openapi_extra=UPLOAD_BODY,
)
async def upload_image(
    request: Request,
    images: ImagesDep,
    db: DatabaseDep,
    runtime: RuntimeDep,
    principal: UploaderPrincipal,
) -> ImagePublic | GroupUpload:
    async def album_of(form: ParsedForm, target: UploadTarget) -> str | None:
        album_ref = (form.first("albumId") or "").strip()
        if not album_ref:
            return None
        return await albums.album_for_upload(db=db, principal=principal, ref=album_ref, client_id=target.client_id)

    # `upload_images`' recipe, with the file fetched from `url` when one is given instead (docs/uploads.md).
    target = await images.upload_target(principal)
    rules = UploadRules(max_files=images.max_files)
    async with received_upload(request, images, target=target, rules=rules) as received:
        form = received.form
        album_id = await album_of(form, target)  # the fields are checked before anything is fetched
        target.check(is_private=parse_bool(form.first("isPrivate"), field="isPrivate"))
        async with fetched_upload(
            runtime.fetcher, url_field(form), tmp_dir=images.work_dir, max_bytes=received.limit
        ) as remote:
            uploads = upload_fields(form, target, album_id, remote)
            ingested = await images.ingest(uploads, limit=received.limit)
    data = [await to_public(request, images, image) for image in ingested.images]
    if ingested.group_id is None:
        return data[0]
    return GroupUpload(group_id=ingested.group_id, data=data)


@asynccontextmanager
async def received_upload(
    request: Request, images: Images, *, target: UploadTarget, rules: UploadRules
) -> AsyncIterator[Received]:
    """The upload's fields: a multipart form, or a JSON `ImageFromUrl` read as if its fields had been sent in one."""
    if not is_json(request):
        async with receive_form(request, images, client_id=target.client_id, rules=rules) as received:
            yield received
        return
    body = await read_json(request, ImageFromUrl)
    yield Received(form=url_form(body), limit=await images.file_size_limit(target.client_id))


def url_form(body: ImageFromUrl) -> ParsedForm:
    tags = [body.tags] if isinstance(body.tags, str) else body.tags or []
    fields = {"url": [body.url], "tags": tags, "isPrivate": ["true" if body.is_private else "false"]}
    optional = {"description": body.description, "albumId": body.album_id}
    return ParsedForm(fields=fields | {name: [value] for name, value in optional.items() if value is not None})


@router.get(
    "/images", name="images.list", summary="List images with filtering and pagination", response_model=ImageList
)
async def list_images(
    request: Request, images: ImagesDep, db: DatabaseDep, principal: ClientPrincipal, query: ImageListQuery
) -> ImageList:
    policy.require(principal, policy.Action.LIST)  # upload keys may not list
    result = await listing.list_images(
        db=db, principal=principal, flt=query.flt, limit=query.limit, page=query.page, cursor=query.cursor
    )
    return ImageList(
        data=[await to_public(request, images, image) for image in result.items], pagination=pagination(result)
    )


SERVE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"image/*": {}, "application/json": {"schema": {"$ref": "#/components/schemas/ImagePublic"}}},
        "description": "The image bytes; with info=true its metadata. Inaccessible images get a fallback WebP.",
    }
}
SHARED_RESPONSES = SERVE_RESPONSES  # a share link answers `info=true` with the metadata too


@router.head(
    "/images/share/{share_token}",
    name="images.shared",
    response_model=None,
    responses=SHARED_RESPONSES,
    summary="Shared image headers",
)
@router.get(
    "/images/share/{share_token}",
    name="images.shared",
    response_model=None,
    responses=SHARED_RESPONSES,
    summary="Access a shared image via its token",
)
async def serve_shared(
    request: Request,
    images: ImagesDep,
    delivery: DeliveryDep,
    db: DatabaseDep,
    share_token: str,
    query: ServeQueryDep,
    principal: OptionalPrincipal,
) -> Response:
    image = await shares.resolve_share(db=db, token=share_token)
    if query.extras.info:
        if image is None:
            raise ImageNotFound()
        return _json(await to_public(request, images, image))
    if image is None:
        return delivery.fallback()
    # A share link transforms freely.
    return await delivery.deliver_or_fallback(request, image, query.options, viewer=principal)


@router.head(
    "/images/{image_id}", name="images.serve", response_model=None, responses=SERVE_RESPONSES, summary="Image headers"
)
@router.get(
    "/images/{image_id}",
    name="images.serve",
    response_model=None,
    responses=SERVE_RESPONSES,
    summary="Serve an image (original or transformed), or its metadata with info=true",
)
async def serve_image(
    request: Request,
    images: ImagesDep,
    delivery: DeliveryDep,
    db: DatabaseDep,
    image_id: str,
    query: ServeQueryDep,
    principal: OptionalPrincipal,
) -> Response:
    extras = query.extras
    image = await (images.find(image_id) if extras.info else images.find_to_serve(image_id))
    token_ok = image is not None and await shares.token_opens(db=db, token=extras.token, image_id=image.id)
    if extras.info:
        if image is None or not policy.can_read_image_info(principal, image, token_grants=token_ok):
            raise ImageNotFound()
        return _json(await to_public(request, images, image))
    if image is None or not policy.can_view_image(principal, image, token_grants=token_ok):
        return delivery.fallback()
    # Only after the view check: a signature error tells nothing about images the caller may not see.
    delivery.check_presets_only(extras, principal=principal, image=image)
    valid_for = delivery.check_signature(
        query.options, extras, principal=principal, image=image, image_id=image.id, token_grants=token_ok
    )
    # The fallback too when the image went while this process still held its record (deleted elsewhere).
    return await delivery.deliver_or_fallback(request, image, query.options, valid_for=valid_for, viewer=principal)


def image_changes(body: ImageUpdate) -> image_service.ImageChanges:
    return image_service.ImageChanges(
        description=body.description or None,
        clear_description="description" in body.model_fields_set and not body.description,
        tags=normalize_tags(body.tags) if body.tags is not None else None,
        is_private=body.is_private,
        focal_point=(body.focal_point.x, body.focal_point.y) if body.focal_point else None,
        clear_focal_point="focal_point" in body.model_fields_set and body.focal_point is None,
    )


@router.patch(
    "/images/{image_id}",
    name="images.update",
    summary="Update tags, description or privacy",
    response_model=ImagePublic,
)
async def update_image(
    request: Request, images: ImagesDep, principal: ClientPrincipal, image_id: str, body: ImageUpdate
) -> ImagePublic:
    image = await images.update(principal, image_id, image_changes(body))
    return await to_public(request, images, image)


@router.delete("/images/{image_id}", name="images.delete", status_code=204, summary="Delete an image")
async def delete_image(
    images: ImagesDep,
    principal: ClientPrincipal,
    image_id: str,
    preserve_on_disk: Annotated[
        str | None,
        Query(
            alias="preserveOnDisk",
            description="Admins only: delete the image but keep its original file on disk (others get 403).",
        ),
    ] = None,
) -> Response:
    await images.delete(principal, image_id, preserve_on_disk=parse_bool(preserve_on_disk, field="preserveOnDisk"))
    return Response(status_code=204)


@router.post(
    "/images/{image_id}/share",
    name="images.share",
    status_code=201,
    summary="Create a share link",
    response_model=SharePublic,
)
async def create_share(
    request: Request,
    db: DatabaseDep,
    principal: ClientPrincipal,
    image_id: str,
    body: Annotated[ShareCreate | None, Body()] = None,
) -> SharePublic:
    expires_in = timedelta(seconds=body.expires_in) if body and body.expires_in else None
    new = await shares.create_share(db=db, principal=principal, image_id=image_id, expires_in=expires_in)
    return SharePublic(
        token=new.token,
        url=url_for(request, "v2.images.shared", share_token=new.token),
        image_id=new.link.image_id,
        expires_at=new.link.expires_at,
        created_at=new.link.created_at,
    )


@router.delete(
    "/images/{image_id}/share/{token}", name="images.unshare", status_code=204, summary="Revoke a share link"
)
async def revoke_share(db: DatabaseDep, principal: ClientPrincipal, image_id: str, token: str) -> Response:
    await shares.revoke_share(db=db, principal=principal, image_id=image_id, token=token)
    return Response(status_code=204)
