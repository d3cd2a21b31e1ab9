"""A tiny Starlette app that receives uploads the way pinhole's upload APIs will."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pinhole.errors import InvalidInput, PinholeError
from pinhole.uploads import ParsedForm, UploadedFile, parse_multipart, receive_multipart


def build_app(tmp_dir: Path, limits: dict[str, int]) -> Starlette:
    """`/upload` cleans up through `receive_multipart`; `/parse` keeps the form on `app.state.forms`."""

    async def upload(request: Request) -> JSONResponse:
        async with receive_multipart(request, tmp_dir=tmp_dir, **limits) as form:
            if "fail" in request.query_params:
                raise InvalidInput("The handler refused the upload.")
            return JSONResponse(await describe(form))

    async def parse(request: Request) -> JSONResponse:
        form = await parse_multipart(request, tmp_dir=tmp_dir, **limits)
        request.app.state.forms.append(form)
        return JSONResponse(await describe(form))

    app = Starlette(
        routes=[Route("/upload", upload, methods=["POST"]), Route("/parse", parse, methods=["POST"])],
        exception_handlers={PinholeError: render_error},
    )
    app.state.forms = []
    return app


async def render_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PinholeError)
    body = {"code": exc.code, "message": exc.message, "field": exc.field, "details": exc.details}
    return JSONResponse(body, status_code=exc.status)


async def describe(form: ParsedForm) -> dict[str, Any]:
    return {"fields": form.fields, "files": [await describe_file(upload) for upload in form.files]}


async def describe_file(upload: UploadedFile) -> dict[str, Any]:
    disk_sha256, disk_size = await anyio.to_thread.run_sync(digest, upload.path)
    return {
        "field": upload.field,
        "filename": upload.filename,
        "content_type": upload.content_type,
        "size": upload.size,
        "sha256": upload.sha256,
        "disk_sha256": disk_sha256,
        "disk_size": disk_size,
    }


def digest(path: Path) -> tuple[str, int]:
    """Hash the file as it is on disk, in pieces, so big uploads are not read into memory here either."""
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest(), path.stat().st_size
