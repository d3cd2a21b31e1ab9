"""userimages routes, all under `/api/users/user/{userId}/images`: thin over the shared services.

Every route acts for the client's external user `userId`; images and groups of other users (or of nobody) are 404,
as are other clients'. Authorization is the policy's (through the services); the path only narrows it to `userId`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Path, Request

from pinhole.api.deps import DatabaseDep
from pinhole.api.params import BINARY, multipart_body
from pinhole.api.services import ImagesDep
from pinhole.api.uploads import UploadRules, new_image, upload_images
from pinhole.api.urls import image_url, url_prefix
from pinhole.db.models import Image, ImageGroup
from pinhole.dialects.userimages.auth import UserPrincipal
from pinhole.dialects.userimages.errors import UserimagesRoute
from pinhole.dialects.userimages.schemas import (
    DeleteResponse,
    FileData,
    GroupDeleteResponse,
    GroupResponse,
    UploadedFile,
    UploadResponse,
    UserImage,
    UserimagesGroupUpdate,
    UserimagesImageUpdate,
)
from pinhole.errors import ImageNotFound, InvalidInput
from pinhole.security import policy
from pinhole.security.principal import Principal
from pinhole.services import groups, listing
from pinhole.services.images import shown_as
from pinhole.services.ingest import NewImage
from pinhole.services.library import Images
from pinhole.services.uploaders import UploadTarget
from pinhole.uploads.multipart import ParsedForm

BASE = "/api/users/user/{userId}/images"
MAX_FILES = 4
ACCEPTED_FORMATS = frozenset({"jpeg", "png", "webp"})
EXTENSIONS = {"jpeg": "jpg"}

ImageIdPath = Annotated[str, Path(alias="imageId", description="The image's `_id`.")]
GroupIdPath = Annotated[str, Path(alias="groupId", description="The `groupId` of an upload of several files.")]

router = APIRouter(tags=["userimages"], route_class=UserimagesRoute)

UPLOAD_BODY = multipart_body(
    {
        "file": {
            "type": "array",
            "items": BINARY,
            "maxItems": MAX_FILES,
            "description": "1 to 4 JPEG, PNG or WebP files, each in a `file` part.",
        }
    },
    required=["file"],
)


def image_key(image: Image) -> str:
    """The document's `key`: the image id with its format's extension (pinhole derives it; it never changes)."""
    return f"{image.id}.{EXTENSIONS.get(image.format, image.format)}"


def to_record(request: Request, image: Image, shown: Image | None = None) -> UserImage:
    """The record of `image`; after a PUT it answers the url and key of the image it names (`shown`)."""
    target = shown or image
    return UserImage(
        id=image.id,
        userId=image.owner_id or "",
        url=image_url(request, target.id),  # served by the v2 delivery code (transforms included)
        key=image_key(target),
        groupId=image.group_id,
        createdAt=int(image.created_at.timestamp() * 1000),
    )


def _in_scope(principal: Principal, owner_id: str | None) -> bool:
    """The path's `userId` narrows every route to that user's images and groups."""
    return owner_id is not None and owner_id == principal.user_id


async def _users_image(images: Images, principal: Principal, image_id: str) -> Image:
    image = await images.get_for(principal, image_id)
    if not _in_scope(principal, image.owner_id):
        raise ImageNotFound()
    return image


async def _users_group(images: Images, principal: Principal, group_id: str) -> tuple[ImageGroup, Sequence[Image]]:
    group, members = await images.get_group(principal, group_id)
    if not _in_scope(principal, group.owner_id):
        raise groups.GroupNotFound()
    return group, members


async def _read_upload(form: ParsedForm, target: UploadTarget) -> list[NewImage]:
    files = form.files_for("file")
    if not files:
        raise InvalidInput("Send 1 to 4 images in `file` form fields.", field="file")
    return [new_image(file, target) for file in files]


UPLOAD_RULES = UploadRules(max_files=MAX_FILES, accepted=ACCEPTED_FORMATS)


@router.post(
    BASE, name="upload", summary="Upload 1 to 4 images", response_model=UploadResponse, openapi_extra=UPLOAD_BODY
)
async def upload(request: Request, images: ImagesDep, principal: UserPrincipal) -> UploadResponse:
    ingested = await upload_images(request, images, principal, _read_upload, UPLOAD_RULES)
    return UploadResponse(
        files=[
            UploadedFile(data=FileData(url=image_url(request, image.id), key=image_key(image)))
            for image in ingested.images
        ],
        groupId=ingested.group_id,
    )


@router.get(
    BASE,
    name="list",
    summary="The user's images, each as a JSON-encoded string",
    response_model=list[str],
    responses={200: {"description": "Newest first; each item is a JSON-encoded image record (see the GET by id)."}},
)
async def list_images(request: Request, db: DatabaseDep, principal: UserPrincipal) -> list[str]:
    flt = listing.ImageFilter(owner_id=principal.user_id)
    found: list[str] = []
    cursor: str | None = None
    while True:  # the document has no paging: every image of the user, walked in keyset pages
        page = await listing.list_images(
            db=db,
            principal=principal,
            flt=flt,
            limit=listing.MAX_LIMIT,
            page=1 if cursor is None else None,
            cursor=cursor,
        )
        shown = await shown_as(db=db, images=page.items)
        for image in page.items:
            record = to_record(request, image, shown.get(image.id)).model_dump(by_alias=True)
            found.append(json.dumps(record, indent=1))  # the document's strings: `{\n "_id": ...\n}`
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


@router.get(BASE + "/{imageId}", name="get", summary="Get an image by id", response_model=UserImage)
async def get_image(request: Request, images: ImagesDep, principal: UserPrincipal, image_id: ImageIdPath) -> UserImage:
    return await _record(request, images, await _users_image(images, principal, image_id))


async def _record(request: Request, images: Images, image: Image) -> UserImage:
    shown = await images.shown_as([image])
    return to_record(request, image, shown.get(image.id))


@router.put(BASE + "/{imageId}", name="update", summary="Repoint an image at another's file", response_model=UserImage)
async def update_image(
    request: Request,
    images: ImagesDep,
    principal: UserPrincipal,
    image_id: ImageIdPath,
    body: UserimagesImageUpdate,
) -> UserImage:
    image = await _users_image(images, principal, image_id)
    given = {name: value for name, value in (("url", body.url), ("key", body.key)) if value is not None}
    if not given:
        raise InvalidInput("Send `url` and/or `key`.", field="url")
    named = {name: await _named_image(request, images, principal, name, value) for name, value in given.items()}
    if len(set(named.values())) > 1:
        raise InvalidInput("`url` and `key` name different images; send one, or both of the same image.", field="key")
    source_id = next(iter(named.values()))
    return await _record(request, images, await images.point_record(principal, image.id, target_id=source_id))


async def _named_image(request: Request, images: Images, principal: Principal, name: str, value: str) -> str:
    """The id of the user's image whose `url` or `key` (as this API answers them) is `value`; 400 otherwise."""
    if name == "url":
        prefix = url_prefix(request, "v2.images.serve", "image_id")
        candidate = value.removeprefix(prefix) if value.startswith(prefix) else ""
    else:
        candidate = value.rpartition(".")[0]
    found = await images.find(candidate, with_tags=False) if candidate else None
    if found is not None and _in_scope(principal, found.owner_id) and policy.can_read_image_info(principal, found):
        record = to_record(request, found)
        if (record.url if name == "url" else record.key) == value:
            return found.id
    raise InvalidInput(
        f"`{name}` names no image of this user: upload the new image (POST), then send the `{name}` it answered.",
        field=name,
    )


@router.delete(BASE + "/{imageId}", name="delete", summary="Delete an image", response_model=DeleteResponse)
async def delete_image(images: ImagesDep, principal: UserPrincipal, image_id: ImageIdPath) -> DeleteResponse:
    image = await _users_image(images, principal, image_id)
    await images.delete(principal, image.id)
    return DeleteResponse(deletedId=image.id)


async def _group_response(
    request: Request, images: Images, group: ImageGroup, members: Sequence[Image]
) -> GroupResponse:
    shown = await images.shown_as(members)
    return GroupResponse(
        groupId=group.id,
        userId=group.owner_id or "",
        name=group.name,
        description=group.description,
        images=[to_record(request, image, shown.get(image.id)) for image in members],
    )


@router.get(BASE + "/group/{groupId}", name="group.get", summary="All images of a group", response_model=GroupResponse)
async def get_group(
    request: Request, images: ImagesDep, principal: UserPrincipal, group_id: GroupIdPath
) -> GroupResponse:
    group, members = await _users_group(images, principal, group_id)
    return await _group_response(request, images, group, members)


@router.put(
    BASE + "/group/{groupId}", name="group.update", summary="Update a group's metadata", response_model=GroupResponse
)
async def update_group(
    request: Request,
    images: ImagesDep,
    principal: UserPrincipal,
    group_id: GroupIdPath,
    body: UserimagesGroupUpdate,
) -> GroupResponse:
    await _users_group(images, principal, group_id)
    if body.name is None and body.description is None:
        raise InvalidInput("Send `name` and/or `description`.", field="name")
    changes = groups.GroupChanges(
        name=body.name or None,
        description=body.description or None,
        clear_name=body.name == "",
        clear_description=body.description == "",
    )
    group, members = await images.update_group(principal, group_id, changes)
    return await _group_response(request, images, group, members)


@router.delete(
    BASE + "/group/{groupId}",
    name="group.delete",
    summary="Delete a group and all its images",
    response_model=GroupDeleteResponse,
)
async def delete_group(images: ImagesDep, principal: UserPrincipal, group_id: GroupIdPath) -> GroupDeleteResponse:
    _, members = await _users_group(images, principal, group_id)
    await images.delete_group(principal, group_id)
    return GroupDeleteResponse(deletedGroupId=group_id, deletedIds=[image.id for image in members])
