"""v2 image routes: upload, list, serve / info, update, delete, share links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response

from pinhole.api.delivery import deliver_image, send_fallback
from pinhole.api.deps import RuntimeDep, public_base_url
from pinhole.api.params import parse_bool
from pinhole.api.v2.auth import ClientPrincipal, OptionalPrincipal, UploaderPrincipal
from pinhole.api.v2.errors import V2Route
from pinhole.api.v2.schemas import (
    ImageList,
    ImagePublic,
    ImageUpdate,
    Pagination,
    ShareCreate,
    SharePublic,
)
from pinhole.api.v2.transform import ServeQueryDep, check_signature
from pinhole.db.models import Image
from pinhole.errors import ImageNotFound, InvalidInput
from pinhole.runtime import Runtime
from pinhole.security import policy
from pinhole.services import images as image_service
from pinhole.services import listing, shares, uploaders
from pinhole.services.ingest import NewImage, ingest_image
from pinhole.services.quotas import file_size_limit
from pinhole.services.tags import normalize_tags, split_tag_fields
from pinhole.services.variant_cache import forget_blobs
from pinhole.uploads.multipart import ParsedForm, receive_multipart

router = APIRouter(tags=["v2"], route_class=V2Route)

MAX_DESCRIPTION = 2000
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "JPEG, PNG, WebP or GIF.",
                        },
                        "tags": {"type": "array", "items": {"type": "string"}, "description": "Text tags."},
                        "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
                        "isPrivate": {"type": "boolean", "default": False},
                        "albumId": {"type": "string", "description": "Not available yet: must be empty."},
                    },
                }
            }
        },
    }
}


def image_url(request: Request, runtime: Runtime, image_id: str) -> str:
    return f"{public_base_url(request, runtime)}{runtime.settings.v2.prefix}/images/{image_id}"


def to_public(request: Request, runtime: Runtime, image: Image) -> ImagePublic:
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
        views=image.view_count + runtime.usage.pending_views(image.id),
        created_at=image.created_at,
        updated_at=image.updated_at,
    )


def _upload_fields(form: ParsedForm, principal_client: str, owner: str | None) -> NewImage:
    files = form.files_for("file")
    if not files:
        raise InvalidInput("Send the image in the `file` form field.", field="file")
    if (form.first("albumId") or "").strip():
        raise InvalidInput("Albums are not available yet; leave albumId empty.", field="albumId")
    description = form.first("description")
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"description must be at most {MAX_DESCRIPTION} characters.", field="description")
    upload = files[0]
    return NewImage(
        path=upload.path,
        sha256=upload.sha256,
        client_id=principal_client,
        owner_id=owner,
        original_name=upload.filename,  # already cleaned and capped by the multipart reader
        description=description or None,
        tags=split_tag_fields(form.fields.get("tags", []) + form.fields.get("tags[]", [])),
        is_private=parse_bool(form.first("isPrivate"), field="isPrivate"),
    )


@router.post(
    "/images",
    name="images.upload",
    status_code=201,
    summary="Upload an image",
    response_model=ImagePublic,
    openapi_extra=UPLOAD_BODY,
)
async def upload_image(request: Request, runtime: RuntimeDep, principal: UploaderPrincipal) -> ImagePublic:
    target = await uploaders.upload_target(db=runtime.db, principal=principal)
    async with receive_multipart(
        request,
        tmp_dir=runtime.settings.tmp_dir,
        max_file_bytes=await file_size_limit(
            db=runtime.db, defaults=runtime.ingest_policy.quotas, client_id=target.client_id
        ),
        max_files=1,
    ) as form:
        upload = _upload_fields(form, target.client_id, target.owner_id)
        target.check(is_private=upload.is_private)
        image = await ingest_image(
            db=runtime.db, store=runtime.store, pool=runtime.pool, policy=runtime.ingest_policy, upload=upload
        )
    return to_public(request, runtime, image)


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@router.get(
    "/images", name="images.list", summary="List images with filtering and pagination", response_model=ImageList
)
async def list_images(
    request: Request,
    runtime: RuntimeDep,
    principal: ClientPrincipal,
    page: Annotated[int | None, Query(ge=1, description="Page number (page mode).")] = None,
    limit: Annotated[int, Query(ge=1, le=listing.MAX_LIMIT)] = 20,
    cursor: Annotated[str | None, Query(description="nextCursor of the previous page (cursor mode).")] = None,
    tag: Annotated[str | None, Query(description="Only images with this tag.")] = None,
    search: Annotated[str | None, Query(max_length=200, description="Text in the description or file name.")] = None,
    owner: Annotated[str | None, Query(description="Only images of this external user id.")] = None,
    created_from: Annotated[
        datetime | None, Query(alias="from", description="Uploaded at or after (ISO 8601).")
    ] = None,
    created_to: Annotated[datetime | None, Query(alias="to", description="Uploaded before (ISO 8601).")] = None,
) -> ImageList:
    policy.require(principal, policy.Action.LIST)  # upload keys may not list
    if page is not None and cursor is not None:
        raise InvalidInput("Use either page or cursor, not both.", field="cursor")
    flt = listing.ImageFilter(
        tag=normalize_tags([tag])[0] if tag and tag.strip() else None,
        search=search.strip() if search else None,
        owner_id=owner,
        created_from=_as_utc(created_from),
        created_to=_as_utc(created_to),
    )
    result = await listing.list_images(
        db=runtime.db, principal=principal, flt=flt, limit=limit, page=page, cursor=cursor
    )
    total_pages = None if result.total is None else max(1, -(-result.total // limit))
    return ImageList(
        data=[to_public(request, runtime, image) for image in result.items],
        pagination=Pagination(
            page=result.page,
            limit=result.limit,
            total=result.total,
            total_pages=total_pages,
            next_cursor=result.next_cursor,
        ),
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
            to_public(request, runtime, image).model_dump_json(by_alias=True), media_type="application/json"
        )
    if image is None:
        return send_fallback()
    return await deliver_image(request, runtime, image, query.options)  # a share link transforms freely: no `sig`


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
            to_public(request, runtime, image).model_dump_json(by_alias=True), media_type="application/json"
        )
    if image is None or not policy.can_view_image(principal, image, token_grants=token_ok):
        return send_fallback()
    # Only after the view check: a signature error tells nothing about images the caller may not see.
    valid_for = check_signature(
        runtime, query, principal=principal, image=image, image_id=image.id, token_grants=token_ok
    )
    return await deliver_image(request, runtime, image, query.options, valid_for=valid_for)


@router.patch(
    "/images/{image_id}",
    name="images.update",
    summary="Update tags, description or privacy",
    response_model=ImagePublic,
)
async def update_image(
    request: Request, runtime: RuntimeDep, principal: ClientPrincipal, image_id: str, body: ImageUpdate
) -> ImagePublic:
    changes = image_service.ImageChanges(
        description=body.description or None,
        clear_description="description" in body.model_fields_set and not body.description,
        tags=normalize_tags(body.tags) if body.tags is not None else None,
        is_private=body.is_private,
    )
    image = await image_service.update_image(
        db=runtime.db, recent=runtime.recent, principal=principal, image_id=image_id, changes=changes
    )
    return to_public(request, runtime, image)


@router.delete("/images/{image_id}", name="images.delete", status_code=204, summary="Delete an image")
async def delete_image(runtime: RuntimeDep, principal: ClientPrincipal, image_id: str) -> Response:
    released = await image_service.delete_image(
        db=runtime.db, recent=runtime.recent, store=runtime.store, principal=principal, image_id=image_id
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
