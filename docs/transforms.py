#!/usr/bin/env python3
"""The example pictures of docs/transforms.md, made through the real app.

    .venv/bin/python docs/transforms.py [OUTPUT_DIR]     (default: docs/transforms)

Builds the app in-process (`create_app`) on a temporary data folder, uploads a synthetic photo with a bright
subject in its bottom-right corner (and a watermark-free copy of the same), asks the v2 API for each example URL
of the docs with `Accept: */*` (so the answers are JPEG or PNG, which every Markdown viewer shows) and writes
what came back as `<name>.<ext>`.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import pyvips  # noqa: E402
from tests.support.images import photo  # noqa: E402
from tests.support.scenes import scene_image  # noqa: E402

from pinhole.app import create_app  # noqa: E402
from pinhole.db.migrate import upgrade  # noqa: E402
from pinhole.services.clients import create_client  # noqa: E402
from pinhole.settings import Settings  # noqa: E402

EXAMPLES: list[tuple[str, dict[str, str]]] = [
    ("original", {"w": "240"}),
    ("cover-centre", {"w": "120", "h": "120", "fit": "cover"}),
    ("cover-smart", {"w": "120", "h": "120", "fit": "cover", "gravity": "smart"}),
    ("cover-se", {"w": "120", "h": "120", "fit": "cover", "gravity": "se"}),
    ("cover-fp", {"w": "120", "h": "120", "fit": "cover", "fp": "0.85,0.8"}),
    ("pad", {"w": "240", "h": "120", "fit": "pad", "bg": "203040"}),
    ("outside", {"w": "120", "h": "120", "fit": "outside"}),
    ("fill", {"w": "240", "h": "80", "fit": "fill"}),
    ("crop", {"crop": "0.5,0.5,0.5,0.5", "w": "120"}),
    ("dpr", {"w": "60", "dpr": "2"}),
    ("rotate", {"w": "160", "rotate": "90"}),
    ("flip", {"w": "160", "flip": "true"}),
    ("flop", {"w": "160", "flop": "true"}),
    ("blur", {"w": "160", "blur": "3"}),
    ("sharpen", {"w": "160", "sharpen": "2"}),
    ("grayscale", {"w": "160", "grayscale": "true"}),
    ("cover-entropy", {"w": "120", "h": "120", "fit": "cover", "gravity": "entropy"}),
    ("watermark", {"w": "240", "wm": "{mark}", "wm_gravity": "ne", "wm_opacity": "0.7", "wm_scale": "0.3"}),
    ("thumb", {"thumb": "true"}),
    ("enlarge", {"crop": "0.75,0.75,0.25,0.25", "w": "240", "enlarge": "true"}),
    ("quality", {"w": "240", "q": "15"}),
    ("format", {"w": "240", "format": "png"}),
    ("preset", {"preset": "card"}),
    ("bg", {"w": "96", "bg": "203040", "format": "jpeg", "image": "mark"}),  # the mark's transparency, flattened
]
PRESETS = {"card": "w=160&h=120&fit=cover&gravity=smart"}
THUMBNAIL_SIZE = 120


def mark() -> bytes:
    """A small white-on-transparent badge to use as the watermark."""
    ring = pyvips.Image.black(96, 96).draw_circle(255, 48, 48, 44, fill=True).draw_circle(0, 48, 48, 30, fill=True)
    white = pyvips.Image.black(96, 96).new_from_image([255, 255, 255]).cast("uchar")
    return bytes(white.bandjoin(ring.cast("uchar")).copy(interpretation="srgb").pngsave_buffer())


def source() -> bytes:
    """A photo-like picture with a bright checkered subject in the bottom-right corner."""
    base = photo(480, 320, seed=3)
    subject = scene_image(480, 320, at=(1.0, 1.0)).crop(480 - 64, 320 - 64, 64, 64)
    picture: pyvips.Image = base.insert(subject, 480 - 64 - 12, 320 - 64 - 12)
    return bytes(picture.jpegsave_buffer(Q=90))


async def make() -> dict[str, bytes]:
    """Each example's file name and bytes, as the API answered."""
    pictures: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(
            data_dir=Path(data), imaging={"thumbnail_size": THUMBNAIL_SIZE}, transforms={"presets": PRESETS}
        )
        app = create_app(settings)
        runtime = app.state.runtime
        await upgrade(runtime.db)
        async with app.router.lifespan_context(app):
            client = await create_client(db=runtime.db, name="docs")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://docs") as http:
                files = {"file": ("photo.jpg", source(), "image/jpeg")}
                uploaded = await http.post("/v2/images", headers={"X-API-Key": client.api_key}, files=files)
                uploaded.raise_for_status()
                url = f"/v2/images/{uploaded.json()['id']}"
                badge = {"file": ("mark.png", mark(), "image/png")}
                marked = await http.post("/v2/images", headers={"X-API-Key": client.api_key}, files=badge)
                marked.raise_for_status()
                mark_url = f"/v2/images/{marked.json()['id']}"
                for name, raw in EXAMPLES:
                    params = {key: value.format(mark=marked.json()["id"]) for key, value in raw.items()}
                    target = mark_url if params.pop("image", None) == "mark" else url
                    response = await http.get(target, params=params, headers={"Accept": "*/*"})
                    response.raise_for_status()
                    extension = response.headers["content-type"].removeprefix("image/").replace("jpeg", "jpg")
                    pictures[f"{name}.{extension}"] = response.content
                    print(f"{name}.{extension}: {target}?{httpx.QueryParams(params)}")
    return pictures


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "transforms"
    out.mkdir(parents=True, exist_ok=True)
    for name, data in asyncio.run(make()).items():
        (out / name).write_bytes(data)


if __name__ == "__main__":
    main()
