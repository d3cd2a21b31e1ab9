"""userphotos routes: `POST /v1/upload` and `GET|HEAD /{image_id}` (the CDN URL), thin over the shared services."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from starlette.convertors import Convertor, register_url_convertor

from pinhole.api.answers import raises
from pinhole.api.credentials import MAX_USER_ID, authenticate, require_csrf
from pinhole.api.delivery import Delivery
from pinhole.api.deps import DatabaseDep, RuntimeDep, settings_of
from pinhole.api.params import BINARY, QUALITY_BOUNDS, SIDE_BOUNDS, multipart_body
from pinhole.api.principals import OptionalPrincipal
from pinhole.api.services import DeliveryDep, ImagesDep
from pinhole.api.transform_query import TransformExtras
from pinhole.api.uploads import UploadRules, new_image, upload_images
from pinhole.api.urls import url_for
from pinhole.db.models import Image
from pinhole.dialects.userphotos.errors import InvalidUserId, MissingImage, MissingUserId, UserphotosRoute
from pinhole.dialects.userphotos.schemas import UserphotosDimensions, UserphotosUploadResponse
from pinhole.errors import CsrfFailed, DatabaseBusy, ImageNotFound, InvalidApiKey, InvalidTransform, MissingApiKey
from pinhole.imaging.options import OutputLimits, TransformOptions, make_transform
from pinhole.security import policy
from pinhole.security.principal import ANONYMOUS, Principal, Via
from pinhole.services import short_ids
from pinhole.services.ingest import NewImage
from pinhole.services.uploaders import UploadTarget
from pinhole.uploads.multipart import ParsedForm

ACCEPTED_FORMATS = frozenset({"jpeg", "png", "webp"})
DEFAULT_QUALITY = 85
THUMBNAIL = {"w": "150", "h": "150"}
OUTPUT_FORMATS = {"webp": "webp", "jpg": "jpeg", "jpeg": "jpeg", "png": "png"}
QUERY_NAMES = {"width": "w", "height": "h", "quality": "q", "format": "f"}


class ImageIdConvertor(Convertor[str]):
    """Only `img_` + 16 lower-case hex digits: the route at the server root never shadows `/healthz`, `/docs`..."""

    regex = short_ids.PATTERN.pattern
    example = "img_0123456789abcdef"  # the mounting collision check fills the path with it

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("userphotos_image_id", ImageIdConvertor())

router = APIRouter(tags=["userphotos"], route_class=UserphotosRoute)

UPLOAD_BODY = multipart_body(
    {
        "user_id": {"type": "string", "maxLength": MAX_USER_ID, "description": "Your user's id."},
        "image": BINARY | {"description": "JPEG, PNG or WebP."},
    },
    required=["user_id", "image"],
)


@raises(MissingApiKey, InvalidApiKey, CsrfFailed, DatabaseBusy)
async def client_key(
    request: Request,
    runtime: RuntimeDep,
    authorization: Annotated[str | None, Header(description="`Bearer <client API key>`.")] = None,
) -> Principal:
    """The calling client: its API key as `Authorization: Bearer` (or `X-API-Key`); other credentials are refused."""
    principal = await authenticate(request, runtime)
    require_csrf(request)
    if principal.is_anonymous:
        raise MissingApiKey("Send your API key: `Authorization: Bearer <API key>`.", field="Authorization")
    if principal.via is not Via.CLIENT_KEY:
        raise InvalidApiKey("userphotos takes a client API key, not an account's key or token.", field="Authorization")
    return principal


ClientKey = Annotated[Principal, Depends(client_key)]


def image_url(request: Request, image: Image) -> str:
    return url_for(request, "userphotos.serve", image_id=short_ids.short_id(image.id))


def thumbnail_url(delivery: Delivery, image: Image, url: str) -> str:
    """The 150x150 crop; signed when anonymous transforms need a signature (`signing.mode`)."""
    options = parse_options(delivery.limits, w=150, h=150, q=None, f=None)
    query = dict(THUMBNAIL) | delivery.signature_for(ANONYMOUS, image, options)
    return f"{url}?{urlencode(query)}"


def _user_id(form: ParsedForm) -> str:
    value = (form.first("user_id") or "").strip()
    if not value:
        raise MissingUserId()
    if len(value) > MAX_USER_ID or not value.isprintable():
        raise InvalidUserId(f"user_id must be 1-{MAX_USER_ID} printable characters.", field="user_id")
    return value


@router.post(
    "/v1/upload",
    name="upload",
    summary="Upload a user's image",
    response_model=UserphotosUploadResponse,
    openapi_extra=UPLOAD_BODY,
)
async def upload(
    request: Request, images: ImagesDep, delivery: DeliveryDep, principal: ClientKey
) -> UserphotosUploadResponse:
    user_ids: list[str] = []

    async def read(form: ParsedForm, _: UploadTarget) -> list[NewImage]:
        user_ids.append(_user_id(form))
        files = form.files_for("image")
        if not files:
            raise MissingImage()
        # The image belongs to the client's external user `user_id`, as with X-User-Id in v2.
        target = await images.upload_target(dataclasses.replace(principal, user_id=user_ids[0]))
        return [new_image(files[0], target)]

    rules = UploadRules(max_bytes=settings_of(request).dialects.userphotos.max_file_bytes, accepted=ACCEPTED_FORMATS)
    image = (await upload_images(request, images, principal, read, rules)).images[0]
    url = image_url(request, image)
    return UserphotosUploadResponse(
        image_id=short_ids.short_id(image.id),
        user_id=user_ids[0],
        image_url=url,
        thumbnail_url=thumbnail_url(delivery, image, url),
        upload_date=image.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        file_size=image.size,
        dimensions=UserphotosDimensions(width=image.width, height=image.height),
    )


def parse_options(
    limits: OutputLimits, *, w: int | None, h: int | None, q: int | None, f: str | None
) -> TransformOptions:
    """The document's options: one side keeps the aspect ratio, both crop to fill; q defaults to 85 whenever the
    image is re-encoded; f is webp, jpg or png. Output may be larger than the original ("set width to 200px")."""
    if f is not None and f.strip().lower() not in OUTPUT_FORMATS:
        raise InvalidTransform("f must be one of webp, jpg, png.", field="f")
    fmt = OUTPUT_FORMATS[f.strip().lower()] if f is not None else None
    changed = w is not None or h is not None or q is not None or fmt is not None
    try:
        return make_transform(
            width=w,
            height=h,
            fit="cover" if w is not None and h is not None else None,
            quality=q if q is not None else (DEFAULT_QUALITY if changed else None),
            format=fmt,
            enlarge=True,
            limits=limits,
        )
    except InvalidTransform as error:  # name the field as the document does
        error.field = QUERY_NAMES.get(error.field or "", error.field)
        for name, short in QUERY_NAMES.items():
            error.message = error.message.replace(f"{name} must", f"{short} must")
        raise


SERVE_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {"image/*": {}}, "description": "The image"}}


async def serve(
    request: Request,
    delivery: DeliveryDep,
    db: DatabaseDep,
    image_id: Annotated[
        str,
        Path(
            description="`img_` + 16 hex digits.",
            examples=["img_1234567890abcdef"],
            pattern=f"^{short_ids.PATTERN.pattern}$",
        ),
    ],
    principal: OptionalPrincipal,
    w: Annotated[
        int | None,
        Query(description="Width in pixels (alone: keeps the aspect ratio).", json_schema_extra=SIDE_BOUNDS),
    ] = None,
    h: Annotated[
        int | None,
        Query(description="Height in pixels (with w: crops to fill w x h).", json_schema_extra=SIDE_BOUNDS),
    ] = None,
    q: Annotated[int | None, Query(description="Quality 1-100 (default 85).", json_schema_extra=QUALITY_BOUNDS)] = None,
    f: Annotated[str | None, Query(description="Output format: webp, jpg or png (default: the original's).")] = None,
    sig: Annotated[str | None, Query(description="URL signature, when the server requires signed transforms.")] = None,
    exp: Annotated[str | None, Query(description="Expiry of the URL signature (epoch seconds).")] = None,
) -> Response:
    options = parse_options(delivery.limits, w=w, h=h, q=q, f=f)
    image = await short_ids.find_by_short_id(db=db, short=image_id)
    if image is None or not policy.can_view_image(principal, image):
        raise ImageNotFound("No image has this id, or it is private.")
    signature = TransformExtras(sig=sig, exp=exp)
    valid_for = delivery.check_signature(
        options, signature, principal=principal, image=image, image_id=image.id, token_grants=False
    )
    return await delivery.deliver(request, image, options, valid_for=valid_for, viewer=principal)


PATH = "/{image_id:userphotos_image_id}"
router.add_api_route(
    PATH, serve, methods=["GET"], name="serve", response_model=None, responses=SERVE_RESPONSES, summary="Serve an image"
)
router.add_api_route(
    PATH, serve, methods=["HEAD"], name="serve", response_model=None, responses=SERVE_RESPONSES, summary="Image headers"
)
