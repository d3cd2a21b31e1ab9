"""The web app's own scripts and styles, served from the package (a fixed list: no path is taken from a request)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from pinhole.errors import NotFound
from pinhole.web.rendering import STATIC, STATIC_TYPES, WebRoute, static_version

router = APIRouter(route_class=WebRoute)

FAVICON = STATIC / "favicon.ico"
FILES = frozenset(path.name for path in STATIC.iterdir() if path.suffix in STATIC_TYPES)


@router.get("/static/{name}", name="static")
async def static_file(request: Request, name: str) -> Response:
    if name not in FILES:
        raise NotFound("No such file.")
    path = STATIC / name
    versioned = request.query_params.get("v") == static_version(name)
    return Response(
        path.read_bytes(),
        media_type=STATIC_TYPES[path.suffix],
        headers={
            "Cache-Control": "public, max-age=31536000, immutable" if versioned else "no-cache",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/favicon.ico", name="favicon")
async def favicon() -> Response:
    """Browsers, feed readers and bots ask for `/favicon.ico` whatever the page says: a real ICO (16, 32 and 48 px
    PNGs rendered from `favicon.svg` with pyvips when the icon was drawn), answered 200 rather than redirected."""
    return Response(
        FAVICON.read_bytes(),
        media_type="image/x-icon",
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
