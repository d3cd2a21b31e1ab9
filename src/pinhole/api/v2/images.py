"""v2 image routes: upload, list, serve / info, update, delete, share links."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response

from pinhole.api.delivery import deliver_image, send_fallback
from pinhole.api.deps import RuntimeDep, public_base_url
from pinhole.api.params import BINARY, multipart_body, parse_bool
from pinhole.api.v2.auth import ClientPrincipal, OptionalPrincipal, UploaderPrincipal
from pinhole.api.v2.errors import V2Route
from pinhole.api.v2.group_schemas import GroupUpload
from pinhole.api.v2.image_listing import ImageListQuery, pagination
from pinhole.api.v2.schemas import (
    ImageList,
    ImagePublic,
    ImageUpdate,
    ShareCreate,
    SharePublic,
)
from pinhole.api.v2.transform import ServeQueryDep, check_signature
from pinhole.db.models import Image
from pinhole.errors import ImageNotFound, InvalidInput
from pinhole.runtime import Runtime
from pinhole.security import policy
from pinhole.services import albums, listing, shares, uploaders
from pinhole.services import images as image_service
from pinhole.services.ingest import NewImage, ingest_images
from pinhole.services.quotas import file_size_limit
from pinhole.services.tags import normalize_tags, split_tag_fields
from pinhole.services.url_uploads import fetched_upload, url_field
from pinhole.services.variant_cache import forget_blobs
from pinhole.uploads.multipart import ParsedForm, UploadedFile, receive_multipart

router = APIRouter(tags=["v2"], route_class=V2Route)

MAX_DESCRIPTION = 2000
UPLOAD_BODY = multipart_body(
    {
        "file": {
            "type": "array",
            "items": BINARY,
            "description": "JPEG, PNG, WebP or GIF. Several `file` parts are stored all or nothing "
            "as one group (201 `{groupId, data}`); one file answers the image itself.",
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


def image_url(request: Request, runtime: Runtime, image_id: str) -> str:
    return f"{public_base_url(request, runtime)}{runtime.settings.v2.prefix}/images/{image_id}"


async def to_public(request: Request, runtime: Runtime, image: Image) -> ImagePublic:
    return ImagePublic(
        id=image.id,
        url=image_url(request, runtime, image.id),
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
        views=image.view_count + await runtime.usage.pending_views(image.id),
        created_at=image.created_at,
        updated_at=image.updated_at,
    )


def upload_fields(
    form: ParsedForm, principal_client: str, owner: str | None, album_id: str | None, remote: UploadedFile | None = None
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
        NewImage(
            path=upload.path,
            sha256=upload.sha256,
            client_id=principal_client,
            owner_id=owner,
            original_name=upload.filename,  # already cleaned and capped by the multipart reader
            description=description or None,
            tags=tags,
            is_private=is_private,
            album_id=album_id,
        )
        for upload in files
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
    request: Request, runtime: RuntimeDep, principal: UploaderPrincipal
) -> ImagePublic | GroupUpload:
    target = await uploaders.upload_target(db=runtime.db, principal=principal)
    limit = await file_size_limit(db=runtime.db, defaults=runtime.ingest_policy.quotas, client_id=target.client_id)
    async with (
        receive_multipart(
            request,
            tmp_dir=runtime.settings.tmp_dir,
            max_file_bytes=limit,
            max_files=runtime.settings.uploads.max_files_per_request,
        ) as form,
        fetched_upload(runtime.fetcher, url_field(form), tmp_dir=runtime.settings.tmp_dir, max_bytes=limit) as remote,
    ):
        album_ref = (form.first("albumId") or "").strip()
        album_id = None
        if album_ref:
            album_id = await albums.album_for_upload(
                db=runtime.db, principal=principal, ref=album_ref, client_id=target.client_id
            )
        uploads = upload_fields(form, target.client_id, target.owner_id, album_id, remote)
        target.check(is_private=uploads[0].is_private)
        ingested = await ingest_images(
            db=runtime.db, store=runtime.store, pool=runtime.pool, policy=runtime.ingest_policy, uploads=uploads
        )
    images = [await to_public(request, runtime, image) for image in ingested.images]
    if ingested.group_id is None:
        return images[0]
    return GroupUpload(group_id=ingested.group_id, data=images)


@router.get(
    "/images", name="images.list", summary="List images with filtering and pagination", response_model=ImageList
)
async def list_images(
    request: Request, runtime: RuntimeDep, principal: ClientPrincipal, query: ImageListQuery
) -> ImageList:
    policy.require(principal, policy.Action.LIST)  # upload keys may not list
    result = await listing.list_images(
        db=runtime.db, principal=principal, flt=query.flt, limit=query.limit, page=query.page, cursor=query.cursor
    )
    return ImageList(
        data=[await to_public(request, runtime, image) for image in result.items], pagination=pagination(result)
    )


SHARED_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/*": {}}, "description": "The image, or the fallback image"}
}


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
async def serve_shared(request: Request, runtime: RuntimeDep, share_token: str, query: ServeQueryDep) -> Response:
    image = await shares.resolve_share(db=runtime.db, token=share_token)
    if query.info:
        if image is None:
            raise ImageNotFound()
        return Response(
            (await to_public(request, runtime, image)).model_dump_json(by_alias=True), media_type="application/json"
        )
    if image is None:
        return send_fallback()
    try:
        return await deliver_image(request, runtime, image, query.options)  # a share link transforms freely: no `sig`
    except ImageNotFound:  # gone while this process still held its record
        return send_fallback()


SERVE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"image/*": {}, "application/json": {"schema": {"$ref": "#/components/schemas/ImagePublic"}}},
        "description": "The image bytes; with info=true its metadata. Inaccessible images get a fallback WebP.",
    }
}


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
    request: Request, runtime: RuntimeDep, image_id: str, query: ServeQueryDep, principal: OptionalPrincipal
) -> Response:
    if query.info:
        image = await image_service.find_image(db=runtime.db, image_id=image_id)
    else:
        image = await image_service.find_image_to_serve(db=runtime.db, recent=runtime.recent, image_id=image_id)
    token_ok = image is not None and await shares.token_opens(db=runtime.db, token=query.token, image_id=image.id)
    if query.info:
        if image is None or not policy.can_read_image_info(principal, image, token_grants=token_ok):
            raise ImageNotFound()
        return Response(
            (await to_public(request, runtime, image)).model_dump_json(by_alias=True), media_type="application/json"
        )
    if image is None or not policy.can_view_image(principal, image, token_grants=token_ok):
        return send_fallback()
    # Only after the view check: a signature error tells nothing about images the caller may not see.
    valid_for = check_signature(
        runtime, query, principal=principal, image=image, image_id=image.id, token_grants=token_ok
    )
    try:
        return await deliver_image(request, runtime, image, query.options, valid_for=valid_for)
    except ImageNotFound:  # gone while this process still held its record (deleted through another instance)
        return send_fallback()


def image_changes(body: ImageUpdate) -> image_service.ImageChanges:
    return image_service.ImageChanges(
        description=body.description or None,
        clear_description="description" in body.model_fields_set and not body.description,
        tags=normalize_tags(body.tags) if body.tags is not None else None,
        is_private=body.is_private,
    )


@router.patch(
    "/images/{image_id}",
    name="images.update",
    summary="Update tags, description or privacy",
    response_model=ImagePublic,
)
async def update_image(
    request: Request, runtime: RuntimeDep, principal: ClientPrincipal, image_id: str, body: ImageUpdate
) -> ImagePublic:
    changes = image_changes(body)
    image = await image_service.update_image(
        db=runtime.db, recent=runtime.recent, principal=principal, image_id=image_id, changes=changes
    )
    return await to_public(request, runtime, image)


@router.delete("/images/{image_id}", name="images.delete", status_code=204, summary="Delete an image")
async def delete_image(
    runtime: RuntimeDep,
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
    released = await image_service.delete_image(
        db=runtime.db,
        recent=runtime.recent,
        store=runtime.store,
        principal=principal,
        image_id=image_id,
        preserve_on_disk=parse_bool(preserve_on_disk, field="preserveOnDisk"),
    )
    forget_blobs(variants=runtime.variants, hot=runtime.hot, keys=released)
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
    runtime: RuntimeDep,
    principal: ClientPrincipal,
    image_id: str,
    body: Annotated[ShareCreate | None, Body()] = None,
) -> SharePublic:
    expires_in = timedelta(seconds=body.expires_in) if body and body.expires_in else None
    new = await shares.create_share(db=runtime.db, principal=principal, image_id=image_id, expires_in=expires_in)
    base = f"{public_base_url(request, runtime)}{runtime.settings.v2.prefix}"
    return SharePublic(
        token=new.token,
        url=f"{base}/images/share/{new.token}",
        image_id=new.link.image_id,
        expires_at=new.link.expires_at,
        created_at=new.link.created_at,
    )


@router.delete(
    "/images/{image_id}/share/{token}", name="images.unshare", status_code=204, summary="Revoke a share link"
)
async def revoke_share(runtime: RuntimeDep, principal: ClientPrincipal, image_id: str, token: str) -> Response:
    await shares.revoke_share(db=runtime.db, principal=principal, image_id=image_id, token=token)
    return Response(status_code=204)
