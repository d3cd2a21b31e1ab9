"""uploadkey image routes: upload, delete, list, details, privacy, the authenticated proxy and public serving."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from pinhole.api.delivery import Delivery
from pinhole.api.deps import DatabaseDep
from pinhole.api.params import BINARY, multipart_body, parse_bool
from pinhole.api.services import DeliveryDep, ImagesDep
from pinhole.api.uploads import new_image, upload_images
from pinhole.api.urls import url_for
from pinhole.db.models import Image
from pinhole.dialects.uploadkey.auth import CSRF, OptionalCaller, SignedIn, Uploader
from pinhole.dialects.uploadkey.errors import UploadkeyRoute
from pinhole.dialects.uploadkey.schemas import Deleted, ImageListOut, ImageOut, PrivacyUpdate
from pinhole.errors import ImageNotFound, InvalidInput
from pinhole.imaging.formats import format_named
from pinhole.imaging.options import TransformOptions
from pinhole.security import policy
from pinhole.security.principal import Principal
from pinhole.services import listing
from pinhole.services.images import ImageChanges
from pinhole.services.ingest import NewImage
from pinhole.services.library import Images
from pinhole.services.uploaders import UploadTarget
from pinhole.uploads.multipart import ParsedForm

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


async def to_out(request: Request, images: Images, delivery: Delivery, image: Image, *, show_key: bool) -> ImageOut:
    ext = _extension(image)
    key = delivery.image_key(image.id) if image.is_private and show_key else None
    return ImageOut(
        id=image.id,
        uuid=image.id,
        url=url_for(request, "uploadkey.serve", uuid=image.id, ext=ext) + (f"?key={key}" if key else ""),
        proxy_url=url_for(request, "uploadkey.proxy", uuid=image.id, ext=ext),
        filename=image.original_name,
        extension=_extension(image),
        mime_type=image.mime_type,
        size=image.size,
        width=image.width,
        height=image.height,
        private=image.is_private,
        key=key,
        views=await images.views(image),
        created_at=image.created_at,
    )


async def _owner_view(
    request: Request, images: Images, delivery: Delivery, principal: Principal, image: Image
) -> ImageOut:
    # The key is a capability to the image, like a share link: shown to whoever may share it.
    return await to_out(request, images, delivery, image, show_key=policy.can_share_image(principal, image))


async def _read_upload(form: ParsedForm, target: UploadTarget) -> list[NewImage]:
    files = form.files_for("file")
    if not files:
        raise InvalidInput("Send the image in the `file` form field.", field="file")
    new = new_image(files[0], target, is_private=parse_bool(form.first("private"), field="private"))
    target.check(is_private=new.is_private)
    return [new]


@router.post(
    "/api/upload",
    name="upload",
    dependencies=[CSRF],
    summary="Upload an image (upload key, or the session cookie with X-CSRF-Token)",
    openapi_extra=UPLOAD_BODY,
)
async def upload(request: Request, images: ImagesDep, delivery: DeliveryDep, principal: Uploader) -> ImageOut:
    image = (await upload_images(request, images, principal, _read_upload)).images[0]
    return await to_out(request, images, delivery, image, show_key=True)  # the uploader gets its private image's key


@router.delete("/api/delete/{uuid}", name="delete", dependencies=[CSRF], summary="Delete an image")
async def delete(images: ImagesDep, principal: SignedIn, uuid: str) -> Deleted:
    await images.delete(principal, uuid)
    return Deleted(message="Image deleted", uuid=uuid)


@router.get("/api/list", name="list", summary="List your images, newest first")
async def list_images(
    request: Request,
    images: ImagesDep,
    delivery: DeliveryDep,
    db: DatabaseDep,
    principal: SignedIn,
    page: Annotated[int, Query(ge=1, le=listing.MAX_PAGE)] = 1,
    limit: Annotated[int, Query(ge=1, le=listing.MAX_LIMIT)] = DEFAULT_LIMIT,
) -> ImageListOut:
    # "Your images": the account's (or the client key's X-User-Id's); a client key alone lists its whole tenant.
    flt = listing.ImageFilter(owner_id=principal.user_id)
    found = await listing.list_images(db=db, principal=principal, flt=flt, limit=limit, page=page)
    return ImageListOut(
        data=[await _owner_view(request, images, delivery, principal, image) for image in found.items],
        total=found.total or 0,
        page=page,
        limit=limit,
    )


@router.get("/api/images/{id}", name="images.read", summary="Image details")
async def read_image(
    request: Request, images: ImagesDep, delivery: DeliveryDep, principal: SignedIn, id: str
) -> ImageOut:
    image = await images.get_for(principal, id)
    return await _owner_view(request, images, delivery, principal, image)


@router.patch(
    "/api/images/{id}",
    name="images.update",
    dependencies=[CSRF],
    summary="Make an image private (get its key) or public (not in the document)",
)
async def update_image(
    request: Request, images: ImagesDep, delivery: DeliveryDep, principal: SignedIn, id: str, body: PrivacyUpdate
) -> ImageOut:
    image = await images.update(principal, id, ImageChanges(is_private=body.private))
    return await _owner_view(request, images, delivery, principal, image)


async def _image_as(images: Images, delivery: Delivery, uuid: str, ext: str) -> tuple[Image, TransformOptions]:
    image = await images.find_to_serve(uuid)
    options = delivery.extension_options(image, ext) if image is not None else None
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
async def proxy(
    request: Request, images: ImagesDep, delivery: DeliveryDep, principal: SignedIn, uuid: str, ext: str
) -> Response:
    image, options = await _image_as(images, delivery, uuid, ext)
    if not policy.can_view_image(principal, image):
        raise ImageNotFound(NOT_FOUND)
    return await delivery.deliver(request, image, options, count_view=False, for_caller=True, viewer=principal)


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
    images: ImagesDep,
    delivery: DeliveryDep,
    principal: OptionalCaller,
    uuid: str,
    ext: str,
    key: Annotated[str | None, Query(description="Private images: the image's base64 key.")] = None,
) -> Response:
    image, options = await _image_as(images, delivery, uuid, ext)
    if not policy.can_view_image(principal, image, token_grants=delivery.image_key_opens(image.id, key)):
        raise ImageNotFound(NOT_FOUND)
    return await delivery.deliver(request, image, options, viewer=principal)
