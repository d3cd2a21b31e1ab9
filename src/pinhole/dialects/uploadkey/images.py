"""uploadkey image routes: upload, delete, list, details, privacy, the authenticated proxy and public serving."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from pinhole.api.delivery import deliver_image, extension_options
from pinhole.api.deps import RuntimeDep, public_base_url
from pinhole.api.params import BINARY, multipart_body, parse_bool
from pinhole.db.models import Image
from pinhole.dialects.uploadkey.auth import CSRF, OptionalCaller, SignedIn, Uploader
from pinhole.dialects.uploadkey.errors import UploadkeyRoute
from pinhole.dialects.uploadkey.schemas import Deleted, ImageListOut, ImageOut, PrivacyUpdate
from pinhole.errors import ImageNotFound, InvalidInput
from pinhole.imaging.formats import format_named
from pinhole.imaging.options import TransformOptions
from pinhole.runtime import Runtime
from pinhole.security import policy
from pinhole.security.principal import Principal
from pinhole.services import images as image_service
from pinhole.services import listing, uploaders
from pinhole.services.image_keys import image_key, image_key_opens
from pinhole.services.ingest import NewImage, ingest_image
from pinhole.services.quotas import file_size_limit
from pinhole.services.variant_cache import forget_blobs
from pinhole.uploads.multipart import ParsedForm, receive_multipart

router = APIRouter(tags=["uploadkey"], route_class=UploadkeyRoute)

DEFAULT_LIMIT = 100
NOT_FOUND = "Image not found or invalid key."
UPLOAD_BODY = multipart_body(
    {
        "file": BINARY | {"description": "The image file."},
        "private": {
            "type": "boolean",
            "default": False,
            "description": "Keep it private: served only with the `key` in the response.",
        },
    },
    required=["file"],
)
IMAGE_BYTES: dict[int | str, dict[str, Any]] = {200: {"content": {"image/*": {}}, "description": "Image file"}}


def _extension(image: Image) -> str:
    found = format_named(image.format)
    return found.extension if found is not None else image.format


async def to_out(request: Request, runtime: Runtime, image: Image, *, show_key: bool) -> ImageOut:
    base = f"{public_base_url(request, runtime)}{runtime.settings.dialects.uploadkey.prefix}"
    name = f"{image.id}.{_extension(image)}"
    key = image_key(secret=runtime.secret, image_id=image.id) if image.is_private and show_key else None
    return ImageOut(
        id=image.id,
        uuid=image.id,
        url=f"{base}/{name}" + (f"?key={key}" if key else ""),
        proxy_url=f"{base}/api/proxy/{name}",
        filename=image.original_name,
        extension=_extension(image),
        mime_type=image.mime_type,
        size=image.size,
        width=image.width,
        height=image.height,
        private=image.is_private,
        key=key,
        views=image.view_count + await runtime.usage.pending_views(image.id),
        created_at=image.created_at,
    )


async def _owner_view(request: Request, runtime: Runtime, principal: Principal, image: Image) -> ImageOut:
    # The key is a capability to the image, like a share link: shown to whoever may share it.
    return await to_out(request, runtime, image, show_key=policy.can_share_image(principal, image))


def _new_image(form: ParsedForm, client_id: str, owner_id: str | None) -> NewImage:
    files = form.files_for("file")
    if not files:
        raise InvalidInput("Send the image in the `file` form field.", field="file")
    upload = files[0]
    return NewImage(
        path=upload.path,
        sha256=upload.sha256,
        client_id=client_id,
        owner_id=owner_id,
        original_name=upload.filename,
        is_private=parse_bool(form.first("private"), field="private"),
    )


@router.post(
    "/api/upload",
    name="upload",
    dependencies=[CSRF],
    summary="Upload an image (upload key, or the session cookie with X-CSRF-Token)",
    openapi_extra=UPLOAD_BODY,
)
async def upload(request: Request, runtime: RuntimeDep, principal: Uploader) -> ImageOut:
    target = await uploaders.upload_target(db=runtime.db, principal=principal)
    max_bytes = await file_size_limit(db=runtime.db, defaults=runtime.ingest_policy.quotas, client_id=target.client_id)
    async with receive_multipart(
        request, tmp_dir=runtime.settings.tmp_dir, max_file_bytes=max_bytes, max_files=1
    ) as form:
        new = _new_image(form, target.client_id, target.owner_id)
        target.check(is_private=new.is_private)
        image = await ingest_image(
            db=runtime.db, store=runtime.store, pool=runtime.pool, policy=runtime.ingest_policy, upload=new
        )
    return await to_out(request, runtime, image, show_key=True)  # the uploader gets the key of its private image


@router.delete("/api/delete/{uuid}", name="delete", dependencies=[CSRF], summary="Delete an image")
async def delete(runtime: RuntimeDep, principal: SignedIn, uuid: str) -> Deleted:
    released = await image_service.delete_image(
        db=runtime.db, recent=runtime.recent, store=runtime.store, principal=principal, image_id=uuid
    )
    forget_blobs(variants=runtime.variants, hot=runtime.hot, keys=released)
    return Deleted(message="Image deleted", uuid=uuid)


@router.get("/api/list", name="list", summary="List your images, newest first")
async def list_images(
    request: Request,
    runtime: RuntimeDep,
    principal: SignedIn,
    page: Annotated[int, Query(ge=1, le=listing.MAX_PAGE)] = 1,
    limit: Annotated[int, Query(ge=1, le=listing.MAX_LIMIT)] = DEFAULT_LIMIT,
) -> ImageListOut:
    # "Your images": the account's (or the client key's X-User-Id's); a client key alone lists its whole tenant.
    flt = listing.ImageFilter(owner_id=principal.user_id)
    found = await listing.list_images(db=runtime.db, principal=principal, flt=flt, limit=limit, page=page)
    return ImageListOut(
        data=[await _owner_view(request, runtime, principal, image) for image in found.items],
        total=found.total or 0,
        page=page,
        limit=limit,
    )


@router.get("/api/images/{id}", name="images.read", summary="Image details")
async def read_image(request: Request, runtime: RuntimeDep, principal: SignedIn, id: str) -> ImageOut:
    image = await image_service.get_image_for(db=runtime.db, principal=principal, image_id=id)
    return await _owner_view(request, runtime, principal, image)


@router.patch(
    "/api/images/{id}",
    name="images.update",
    dependencies=[CSRF],
    summary="Make an image private (get its key) or public (not in the document)",
)
async def update_image(
    request: Request, runtime: RuntimeDep, principal: SignedIn, id: str, body: PrivacyUpdate
) -> ImageOut:
    image = await image_service.update_image(
        db=runtime.db,
        recent=runtime.recent,
        principal=principal,
        image_id=id,
        changes=image_service.ImageChanges(is_private=body.private),
    )
    return await _owner_view(request, runtime, principal, image)


async def _image_as(runtime: Runtime, uuid: str, ext: str) -> tuple[Image, TransformOptions]:
    image = await image_service.find_image_to_serve(db=runtime.db, recent=runtime.recent, image_id=uuid)
    options = extension_options(runtime, image, ext) if image is not None else None
    if image is None or options is None:
        raise ImageNotFound(NOT_FOUND)
    return image, options


@router.head(
    "/api/proxy/{uuid}.{ext}",
    name="proxy",
    response_model=None,
    responses=IMAGE_BYTES,
    summary="Image headers for a signed-in caller",
)
@router.get(
    "/api/proxy/{uuid}.{ext}",
    name="proxy",
    response_model=None,
    responses=IMAGE_BYTES,
    summary="Serve an image to a signed-in caller without counting a view",
)
async def proxy(request: Request, runtime: RuntimeDep, principal: SignedIn, uuid: str, ext: str) -> Response:
    image, options = await _image_as(runtime, uuid, ext)
    if not policy.can_view_image(principal, image):
        raise ImageNotFound(NOT_FOUND)
    return await deliver_image(request, runtime, image, options, count_view=False, for_caller=True)


@router.head("/{uuid}.{ext}", name="serve", response_model=None, responses=IMAGE_BYTES, summary="Image headers")
@router.get(
    "/{uuid}.{ext}",
    name="serve",
    response_model=None,
    responses=IMAGE_BYTES,
    summary="Serve a public image, or a private one with its key",
)
async def serve(
    request: Request,
    runtime: RuntimeDep,
    principal: OptionalCaller,
    uuid: str,
    ext: str,
    key: Annotated[str | None, Query(description="Private images: the image's base64 key.")] = None,
) -> Response:
    image, options = await _image_as(runtime, uuid, ext)
    opens = image_key_opens(secret=runtime.secret, image_id=image.id, given=key)
    if not policy.can_view_image(principal, image, token_grants=opens):
        raise ImageNotFound(NOT_FOUND)
    return await deliver_image(request, runtime, image, options)
