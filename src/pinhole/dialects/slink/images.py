"""slink image routes: the three uploads, serving by `{id}.{ext}`, details, listings, changes and deletion."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Path, Query, Request, Response

from pinhole.api.delivery import Delivery
from pinhole.api.deps import DatabaseDep, settings_of
from pinhole.api.params import BINARY, SIDE_BOUNDS, multipart_body, parse_bool
from pinhole.api.services import DeliveryDep, ImagesDep
from pinhole.api.transform_query import TransformExtras
from pinhole.api.uploads import UploadRules, new_image, upload_images
from pinhole.api.urls import path_for
from pinhole.db.engine import Database
from pinhole.db.models import Image, User
from pinhole.dialects.slink.auth import ApiKeyUser, Guest, JwtUser, OptionalCaller
from pinhole.dialects.slink.errors import FileTooLarge, InvalidMimeType, MissingImage, SlinkRoute, order_mimes
from pinhole.dialects.slink.schemas import (
    Attributes,
    CreatedAt,
    Detail,
    ExternalUploaded,
    History,
    HistoryImage,
    HistoryMeta,
    HistoryOwner,
    ImageDelete,
    ListedImage,
    ListMeta,
    Metadata,
    Owner,
    SlinkImageList,
    SlinkImageUpdate,
    Uploaded,
)
from pinhole.errors import (
    CorruptImage,
    ImageNotFound,
    ImageTooLarge,
    InvalidInput,
    PayloadTooLarge,
    TooManyFrames,
    UnsupportedImageFormat,
)
from pinhole.imaging.formats import format_for_extension, format_named
from pinhole.imaging.options import TransformOptions, make_transform
from pinhole.security import policy
from pinhole.security.principal import Principal
from pinhole.services import listing, users
from pinhole.services.images import ImageChanges
from pinhole.services.ingest import NewImage
from pinhole.services.library import Images
from pinhole.services.uploaders import UploadTarget
from pinhole.uploads.multipart import ParsedForm, UploadedFile

router = APIRouter(tags=["slink"], route_class=SlinkRoute)

DEFAULT_LIMIT = 10
HISTORY_SIZE = 12
THUMBNAIL_SIDE = 300
EDITED_AFTER = timedelta(seconds=1)
ORDER_BY = {"attributes.createdAt": listing.Order.CREATED, "attributes.updatedAt": listing.Order.UPDATED}
SEARCH_BY = ("description", "fileName", "tag")
MAX_UUIDS = listing.MAX_LIMIT
# A file over the limit is read on (not stored) up to this many times the limit, to tell its real size.
MEASURED_TIMES = 4
ACCEPTED_FORMATS = frozenset({"jpeg", "png", "webp", "gif"})  # the document's allowed mime types

UPLOAD_BODY = multipart_body({"image": BINARY | {"description": "The image file."}}, required=["image"])
Endpoint = TypeVar("Endpoint", bound=Callable[..., Coroutine[Any, Any, Any]])
IMAGE_BYTES: dict[int | str, dict[str, Any]] = {200: {"content": {"image/*": {}}, "description": "The image file"}}


# --- uploads -------------------------------------------------------------------------------------------------


def _allowed_mimes(error: UnsupportedImageFormat) -> list[str]:
    names = error.details.get("accepted") or []
    return order_mimes({fmt.mime for name in names if (fmt := format_named(str(name))) is not None})


async def _upload(request: Request, images: Images, principal: Principal) -> Image:
    received: list[UploadedFile] = []

    async def read(form: ParsedForm, target: UploadTarget) -> list[NewImage]:
        files = form.files_for("image")
        if not files:
            raise MissingImage()
        received.append(files[0])
        return [new_image(files[0], target)]

    max_bytes = settings_of(request).dialects.slink.max_file_bytes
    rules = UploadRules(max_bytes=max_bytes, measure_times=MEASURED_TIMES, accepted=ACCEPTED_FORMATS)
    try:
        return (await upload_images(request, images, principal, read, rules)).images[0]
    except UnsupportedImageFormat as error:
        given = (received[0].content_type or "application/octet-stream").split(";")[0].strip().lower()
        raise InvalidMimeType(given=given, allowed=_allowed_mimes(error)) from error
    except PayloadTooLarge as error:
        raise _too_large(error, received) from error
    except (CorruptImage, ImageTooLarge, TooManyFrames) as error:
        error.field = error.field or "image"  # the violation names the form field
        raise


def _too_large(error: PayloadTooLarge, received: list[UploadedFile]) -> FileTooLarge:
    """The file's size: as received (over the client's own limit), as counted while reading, or past measuring."""
    limit = int(error.details["limit"])
    size = received[0].size if received else error.details.get("size")
    if isinstance(size, int):
        return FileTooLarge(size=size, limit=limit)
    return FileTooLarge(size=None, limit=limit, more_than=MEASURED_TIMES * limit)


def upload_route(path: str, name: str, summary: str) -> Callable[[Endpoint], Endpoint]:
    """POST and PUT both upload (the document allows either), each its own OpenAPI operation."""

    def add(endpoint: Endpoint) -> Endpoint:
        for method in ("POST", "PUT"):
            router.add_api_route(
                path,
                endpoint,
                methods=[method],
                name=name,
                status_code=201,
                summary=summary,
                openapi_extra=UPLOAD_BODY,
                operation_id=f"slink_{name.replace('.', '_')}_{method.lower()}",
            )
        return endpoint

    return add


@upload_route("/api/upload", "upload", "Upload an image (JWT)")
async def upload(request: Request, images: ImagesDep, principal: JwtUser) -> Uploaded:
    return Uploaded(id=(await _upload(request, images, principal)).id)


@upload_route("/api/guest/upload", "guest.upload", "Upload an image as a guest (when guest uploads are on)")
async def guest_upload(request: Request, images: ImagesDep, principal: Guest) -> Uploaded:
    return Uploaded(id=(await _upload(request, images, principal)).id)


def _extension(image: Image) -> str:
    found = format_named(image.format)
    return found.extension if found is not None else image.format


@upload_route("/api/external/upload", "external.upload", "Upload an image with an API key (Bearer sk_...)")
async def external_upload(request: Request, images: ImagesDep, principal: ApiKeyUser) -> ExternalUploaded:
    image = await _upload(request, images, principal)
    ext = _extension(image)
    url = path_for(request.app, "slink.serve.file", file=f"{image.id}.{ext}")
    thumbnail = path_for(request.app, "slink.serve.file", file=f"{image.id}_thumbnail.{ext}")
    return ExternalUploaded(id=image.id, url=url, thumbnailUrl=thumbnail)


# --- serving -------------------------------------------------------------------------------------------------


def _options(
    delivery: Delivery, image: Image, ext: str, *, w: int | None, h: int | None, crop: bool
) -> TransformOptions | None:
    """The extension picks the format (its own: unchanged); `w`/`h` resize within, `crop` fills w x h exactly."""
    converted = delivery.extension_options(image, ext)
    if converted is None:
        return None
    if w is None and h is None:
        return converted
    found = format_for_extension(ext)
    fmt = found.name if found is not None and found.name != image.format else None
    return make_transform(width=w, height=h, fit="cover" if crop else "inside", format=fmt, limits=delivery.limits)


async def _serve(
    request: Request,
    images: Images,
    delivery: Delivery,
    principal: Principal,
    image_id: str,
    ext: str,
    *,
    w: int | None,
    h: int | None,
    crop: bool,
    signed: bool,
    sig: str | None = None,
    exp: str | None = None,
) -> Response:
    image = await images.find_to_serve(image_id)
    if image is None or not policy.can_view_image(principal, image):
        raise ImageNotFound("No image has this id, or it is not public.")
    options = _options(delivery, image, ext, w=w, h=h, crop=crop)
    if options is None:
        raise ImageNotFound(f"No image format goes by the extension {ext!r}.")
    valid_for = None
    if signed:
        signature = TransformExtras(sig=sig, exp=exp)
        valid_for = delivery.check_signature(
            options, signature, principal=principal, image=image, image_id=image.id, token_grants=False
        )
    return await delivery.deliver(request, image, options, valid_for=valid_for, viewer=principal)


Width = Annotated[int | None, Query(description="Width in pixels.", json_schema_extra=SIDE_BOUNDS)]
Height = Annotated[int | None, Query(description="Height in pixels.", json_schema_extra=SIDE_BOUNDS)]
Crop = Annotated[str | None, Query(description="`true`: crop to fill w x h exactly (default false).")]


@router.head("/image/{id}.{ext}", name="serve", response_model=None, responses=IMAGE_BYTES, summary="Image headers")
@router.get(
    "/image/{id}.{ext}",
    name="serve",
    response_model=None,
    responses=IMAGE_BYTES,
    summary="Serve an image, resized with w, h and crop; the extension picks the format",
)
async def serve(
    request: Request,
    images: ImagesDep,
    delivery: DeliveryDep,
    principal: OptionalCaller,
    id: str,
    ext: str,
    w: Width = None,
    h: Height = None,
    crop: Crop = None,
    sig: Annotated[str | None, Query(description="URL signature, when the server requires signed transforms.")] = None,
    exp: Annotated[str | None, Query(description="Expiry of the URL signature (epoch seconds).")] = None,
) -> Response:
    cropping = parse_bool(crop, field="crop")
    return await _serve(
        request, images, delivery, principal, id, ext, w=w, h=h, crop=cropping, signed=True, sig=sig, exp=exp
    )


@router.head(
    "/api/image/{file}", name="serve.file", response_model=None, responses=IMAGE_BYTES, summary="Image file headers"
)
@router.get(
    "/api/image/{file}",
    name="serve.file",
    response_model=None,
    responses=IMAGE_BYTES,
    summary="The url and thumbnailUrl of an external upload: `{id}.{ext}` and `{id}_thumbnail.{ext}`",
)
async def serve_file(
    request: Request,
    images: ImagesDep,
    delivery: DeliveryDep,
    principal: OptionalCaller,
    file: Annotated[str, Path(description="`{id}.{ext}` or `{id}_thumbnail.{ext}`.")],
) -> Response:
    stem, dot, ext = file.rpartition(".")
    if not dot:
        raise ImageNotFound("Ask for `{id}.{ext}` or `{id}_thumbnail.{ext}`.")
    image_id, thumb, _ = stem.partition("_thumbnail")
    side = THUMBNAIL_SIDE if thumb else None
    # The thumbnail is one fixed variant per image, like a format conversion: no URL signature is asked for.
    return await _serve(request, images, delivery, principal, image_id, ext, w=side, h=side, crop=False, signed=False)


# --- reading -------------------------------------------------------------------------------------------------


def _file_name(image: Image) -> str:
    return f"{image.id}.{_extension(image)}"


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


@router.get("/api/image/{id}/detail", name="images.detail", summary="An image's details")
async def detail(request: Request, images: ImagesDep, principal: JwtUser, id: str) -> Detail:
    image = await images.get_for(principal, id)
    # The row's two timestamps are taken a few microseconds apart; only a later change counts as an update.
    edited = image.updated_at if image.updated_at - image.created_at > EDITED_AFTER else None
    found = format_named(image.format)
    return Detail(
        id=image.id,
        fileName=_file_name(image),
        description=image.description or "",
        isPublic=not image.is_private,
        createdAt=_iso(image.created_at),
        updatedAt=_iso(edited) if edited is not None else None,
        views=await images.views(image),
        size=image.size,
        mimeType=image.mime_type,
        width=image.width,
        height=image.height,
        supportsResize=found is not None and found.writable,
        url=path_for(request.app, "slink.serve", id=image.id, ext=_extension(image)),
    )


async def _attributes(images: Images, image: Image, date_format: str) -> Attributes:
    return Attributes(
        fileName=image.original_name or _file_name(image),
        description=image.description or "",
        isPublic=not image.is_private,
        createdAt=CreatedAt(
            formattedDate=image.created_at.strftime(date_format).replace(" 0", " ", 1)
            if date_format == LIST_DATE
            else image.created_at.strftime(date_format),
            timestamp=int(image.created_at.timestamp()),
        ),
        views=await images.views(image),
    )


def _metadata(image: Image) -> Metadata:
    return Metadata(size=image.size, mimeType=image.mime_type, width=image.width, height=image.height)


LIST_DATE = "%b %d, %Y"  # Jan 15, 2024 (the day without its leading zero)
HISTORY_DATE = "%Y-%m-%d %H:%M:%S"  # 2025-07-11 22:03:06


async def _owners(db: Database, found: Sequence[Image]) -> dict[str, User]:
    return await users.users_by_id(db, {image.owner_id for image in found if image.owner_id})


def _owner(image: Image, accounts: dict[str, User]) -> Owner | None:
    if image.owner_id is None:
        return None  # a guest upload
    user = accounts.get(image.owner_id)
    return Owner(
        id=image.owner_id,
        email=user.email if user else None,
        displayName=user.display_name if user else None,
    )


async def _listed(images: Images, image: Image, accounts: dict[str, User]) -> ListedImage:
    return ListedImage(
        id=image.id,
        owner=_owner(image, accounts),
        attributes=await _attributes(images, image, LIST_DATE),
        metadata=_metadata(image),
    )


def _search(search_term: str | None, search_by: str | None) -> listing.ImageFilter:
    if search_by is not None and search_by not in SEARCH_BY:
        raise InvalidInput(f"searchBy must be one of {', '.join(SEARCH_BY)}.", field="searchBy")
    term = (search_term or "").strip()
    if not term:
        return listing.ImageFilter(is_private=False)
    if search_by == "tag":
        return listing.ImageFilter(is_private=False, tag=term.lower().lstrip("#"))
    return listing.ImageFilter(is_private=False, search=term)


OrderBy = Annotated[str, Query(description="attributes.updatedAt (last changed first) or attributes.createdAt.")]


def _order(order_by: str) -> listing.Order:
    if order_by not in ORDER_BY:
        raise InvalidInput(f"orderBy must be one of {', '.join(ORDER_BY)}.", field="orderBy")
    return ORDER_BY[order_by]


@router.get("/api/images/{page}", name="images.list", summary="Public images, newest first")
async def list_images(
    images: ImagesDep,
    db: DatabaseDep,
    principal: JwtUser,
    page: Annotated[int, Path(ge=1, le=listing.MAX_PAGE, description="Page number, from 1.")],
    limit: Annotated[int, Query(ge=1, le=listing.MAX_LIMIT, description="Images per page.")] = DEFAULT_LIMIT,
    orderBy: OrderBy = "attributes.updatedAt",
    searchTerm: Annotated[str | None, Query(max_length=200)] = None,
    searchBy: Annotated[str | None, Query(description="description, fileName or tag.")] = None,
    cursor: Annotated[
        str | None, Query(max_length=500, description="nextCursor or prevCursor of a page in the same orderBy.")
    ] = None,
) -> SlinkImageList:
    found = await listing.list_images(
        db=db,
        principal=principal,
        flt=_search(searchTerm, searchBy),
        limit=limit,
        page=None if cursor else page,
        cursor=cursor,
        order=_order(orderBy),
    )
    accounts = await _owners(db, found.items)
    meta = ListMeta(
        size=limit, page=page, total=found.total, nextCursor=found.next_cursor, prevCursor=found.prev_cursor
    )
    return SlinkImageList(meta=meta, data=[await _listed(images, image, accounts) for image in found.items])


@router.get("/api/images", name="images.batch", summary="Several images by id (uuid[]=...)")
async def images_by_id(
    images: ImagesDep,
    db: DatabaseDep,
    principal: JwtUser,
    uuids: Annotated[list[str], Query(alias="uuid[]", description="Image ids (repeat the parameter).")],
) -> list[ListedImage]:
    if len(uuids) > MAX_UUIDS:
        raise InvalidInput(f"At most {MAX_UUIDS} uuid[] values.", field="uuid")
    readable = []
    for image_id in dict.fromkeys(uuids):
        image = await images.find(image_id, with_tags=False)
        if image is not None and policy.can_read_image_info(principal, image):
            readable.append(image)
    accounts = await _owners(db, readable)
    return [await _listed(images, image, accounts) for image in readable]


@router.get("/api/images/history/{page}", name="images.history", summary="Your uploads, newest first")
async def history(
    images: ImagesDep,
    db: DatabaseDep,
    principal: JwtUser,
    page: Annotated[int, Path(ge=1, le=listing.MAX_PAGE, description="Page number, from 1.")],
    orderBy: OrderBy = "attributes.createdAt",
) -> History:
    found = await listing.list_images(
        db=db,
        principal=principal,
        flt=listing.ImageFilter(owner_id=principal.user_id),
        limit=HISTORY_SIZE,
        page=page,
        order=_order(orderBy),
    )
    accounts = await _owners(db, found.items)
    data = []
    for image in found.items:
        user = accounts.get(image.owner_id or "")
        owner = HistoryOwner(
            id=image.owner_id or "",
            email=user.email if user else None,
            username=user.username if user else None,
            displayName=user.display_name if user else None,
        )
        data.append(
            HistoryImage(
                id=image.id,
                attributes=await _attributes(images, image, HISTORY_DATE),
                metadata=_metadata(image),
                owner=owner,
            )
        )
    return History(meta=HistoryMeta(size=HISTORY_SIZE, page=page, total=found.total or 0), data=data)


# --- changing ------------------------------------------------------------------------------------------------


@router.patch("/api/image/{id}", name="images.update", status_code=204, summary="Change description or isPublic")
async def update(images: ImagesDep, principal: JwtUser, id: str, body: SlinkImageUpdate) -> Response:
    changes = ImageChanges(
        description=body.description.strip() if body.description is not None else None,
        is_private=None if body.isPublic is None else not body.isPublic,
    )
    await images.update(principal, id, changes)
    return Response(status_code=204)


@router.delete("/api/image/{id}", name="images.delete", status_code=204, summary="Delete an image")
async def delete(
    images: ImagesDep,
    principal: JwtUser,
    id: str,
    body: Annotated[ImageDelete | None, Body()] = None,
) -> Response:
    # The document lets the owner keep the file; the operator's retention bounds it.
    await images.delete(
        principal, id, preserve_on_disk=body.preserveOnDisk if body is not None else False, owner_may_preserve=True
    )
    return Response(status_code=204)
