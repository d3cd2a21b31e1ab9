"""The upload recipe, once for every API: where the upload goes, the client's file-size limit (read once), the
streamed multipart form, the API's own fields, then ingest. An API supplies only how it reads its form."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from pinhole.security.principal import Principal
from pinhole.services.ingest import Ingested, NewImage
from pinhole.services.library import Images
from pinhole.services.uploaders import UploadTarget
from pinhole.uploads.form import UploadedFile
from pinhole.uploads.multipart import ParsedForm, receive_multipart

# The API's own form fields → the images to store (checked already: missing file, bad fields, target.check).
FormReader = Callable[[ParsedForm, UploadTarget], Awaitable[list[NewImage]]]


@dataclass(frozen=True)
class UploadRules:
    max_files: int = 1
    max_bytes: int | None = None  # the API's own cap per file, under the client's limit
    measure_times: int = 0  # read a file past the limit on, up to this many times it, to tell its real size
    accepted: frozenset[str] | None = None  # the formats the API's document takes, when fewer than the server's


@dataclass(frozen=True)
class Received:
    form: ParsedForm
    limit: int  # the file-size limit the form was read under


@asynccontextmanager
async def receive_form(
    request: Request, images: Images, *, client_id: str, rules: UploadRules = UploadRules()
) -> AsyncIterator[Received]:
    """The request's multipart form, its files read under `client_id`'s limit; temp files go when the block ends."""
    limit = await images.file_size_limit(client_id)
    if rules.max_bytes is not None:
        limit = min(limit, rules.max_bytes)
    async with receive_multipart(
        request,
        tmp_dir=images.work_dir,
        max_file_bytes=limit,
        max_files=rules.max_files,
        measure_file_bytes=rules.measure_times * limit,
    ) as form:
        yield Received(form=form, limit=limit)


async def upload_images(
    request: Request, images: Images, principal: Principal, read: FormReader, rules: UploadRules = UploadRules()
) -> Ingested:
    """Store what the principal uploads in this request."""
    target = await images.upload_target(principal)
    async with receive_form(request, images, client_id=target.client_id, rules=rules) as received:
        uploads = await read(received.form, target)
        return await images.ingest(uploads, limit=received.limit, accepted=rules.accepted)


def new_image(file: UploadedFile, target: UploadTarget, **fields: Any) -> NewImage:
    """A received file as an image to store for `target`; `fields` are the API's own (description, tags...)."""
    return NewImage(
        path=file.path,
        sha256=file.sha256,
        client_id=target.client_id,
        owner_id=target.owner_id,
        original_name=file.filename,  # already cleaned and capped by the multipart reader
        **fields,
    )
