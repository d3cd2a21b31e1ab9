#!/usr/bin/env python3
"""Screenshots of the web app's main pages in the light and dark themes, for the README and docs/web.md.

    .venv/bin/python docs/screenshots.py [OUTPUT_DIR]     (default: docs/screenshots)

Boots a real `pinhole serve` on a free loopback port with a temporary data folder, makes an admin account, a few
images and two albums, and photographs each page in headless Chromium (Debian's chromium + chromium-driver,
installed with apt-get when missing) with `prefers-color-scheme` set to light, then dark.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import pyvips  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from tests.web.live import PASSWORD, LiveServer, chrome, live_server  # noqa: E402

SAMPLES = [
    ("Harbour at dusk", "sea, evening", (255, 140, 60), (40, 60, 140)),
    ("Forest path", "trees, walk", (30, 110, 60), (200, 220, 120)),
    ("Sky over the hills", "sky", (120, 180, 255), (250, 250, 255)),
    ("Desert dunes", "sand, travel", (230, 190, 120), (150, 80, 40)),
    ("Night city", "city, night", (20, 20, 60), (240, 180, 60)),
    ("Lavender field", "flowers", (150, 110, 200), (90, 160, 80)),
]


def sample(top: tuple[int, int, int], bottom: tuple[int, int, int], width: int = 1200, height: int = 800) -> bytes:
    """A diagonal two-colour gradient (a stand-in photo made here, so no third-party image is committed)."""
    xyz = pyvips.Image.xyz(width, height)
    mix = (xyz[0] / width + xyz[1] / height) / 2
    bands = [mix * (b - t) + t for t, b in zip(top, bottom, strict=True)]
    image = bands[0].bandjoin(bands[1:]).cast("uchar").copy(interpretation="srgb")
    data: bytes = image.jpegsave_buffer(Q=85)
    return data


def seed_images(server: LiveServer) -> tuple[str, str]:
    """Upload the samples as the account (through its browser session) and put some in an album; returns the last
    image's id and the album's."""
    with httpx.Client(base_url=server.base, timeout=30) as http:
        session = http.post("/v2/auth/session", json={"login": "alice", "password": PASSWORD})
        session.raise_for_status()
        csrf = session.json()["csrfToken"]
        ids = []
        for description, tags, top, bottom in SAMPLES:
            uploaded = http.post(
                "/v2/images",
                headers={"X-CSRF-Token": csrf},
                files={"file": (description.lower().replace(" ", "-") + ".jpg", sample(top, bottom), "image/jpeg")},
                data={"description": description, "tags": tags},
            )
            uploaded.raise_for_status()
            ids.append(uploaded.json()["id"])
        headers = {"X-CSRF-Token": csrf}
        for name, description, public in (("Travels", "Dunes, hills and the sea", True), ("Nature", None, False)):
            album = http.post(
                "/v2/albums", headers=headers, json={"name": name, "description": description, "isPublic": public}
            )
            album.raise_for_status()
        album_id = album.json()["id"]
        http.post(
            f"/v2/albums/{album_id}/images", headers=headers, json={"imageIds": ids[:2] + ids[5:]}
        ).raise_for_status()
        http.post(f"/v2/albums/{album_id}/tokens", headers=headers, json={"expiresIn": 604800}).raise_for_status()
        for n, image_id in enumerate(ids):  # traffic for the dashboard's charts: renders, warm hits, views
            for width in (320, 640, 320, 320)[: 2 + n % 3]:
                http.get(f"/v2/images/{image_id}", params={"w": width, "format": "webp"}).raise_for_status()
    time.sleep(1)  # the views are counted in the database (flushed every 0.5 s here)
    return str(ids[-1]), str(album_id)


def shoot(server: LiveServer, image_id: str, album_id: str, out: Path, *, dark: bool) -> list[Path]:
    theme = "dark" if dark else "light"
    driver = chrome(dark=dark, width=1280, height=860)
    saved = []
    try:

        def snap(name: str) -> None:
            path = out / f"{name}-{theme}.png"
            driver.save_screenshot(str(path))
            saved.append(path)

        driver.get(f"{server.base}/images/{image_id}")  # signed out: the public viewer page
        driver.execute_script("return document.getElementById('viewer-image').decode().catch(() => 0)")
        snap("viewer")
        driver.get(f"{server.base}/login")
        snap("login")
        driver.find_element(By.ID, "login").send_keys("alice")
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "form button.primary").click()
        driver.implicitly_wait(5)
        driver.find_element(By.CSS_SELECTOR, ".grid")
        driver.execute_script("return Promise.all(Array.from(document.images).map(i => i.decode().catch(() => 0)))")
        snap("images")
        driver.find_element(By.CSS_SELECTOR, ".grid .tile .lightbox-button").click()
        driver.execute_script("return document.getElementById('lightbox-image').decode().catch(() => 0)")
        snap("lightbox")
        driver.get(f"{server.base}/upload")
        with tempfile.TemporaryDirectory() as folder:  # a finished upload, to show its copy buttons
            upload = Path(folder) / f"sunrise-{theme}.jpg"
            upload.write_bytes(sample((250, 200, 90), (60, 90, 160)))
            driver.find_element(By.ID, "files").send_keys(str(upload))
            driver.find_element(By.CSS_SELECTOR, "#uploads .copy-buttons")
        snap("upload")
        driver.get(f"{server.base}/images/{image_id}")
        driver.execute_script("return document.getElementById('preview').decode().catch(() => 0)")
        snap("image")
        driver.get(f"{server.base}/account")
        snap("account")
        driver.get(f"{server.base}/albums")
        snap("albums")
        driver.get(f"{server.base}/albums/{album_id}")
        driver.execute_script("return Promise.all(Array.from(document.images).map(i => i.decode().catch(() => 0)))")
        snap("album")
        driver.get(f"{server.base}/admin")
        snap("admin")
        driver.execute_script("document.getElementById('storage-title').scrollIntoView()")
        snap("admin-charts")
        driver.get(f"{server.base}/admin/users")
        snap("admin-users")
        driver.get(f"{server.base}/admin/settings")
        snap("admin-settings")
    finally:
        driver.quit()
    return saved


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    flush = {"PINHOLE_DELIVERY__VIEW_FLUSH_SECONDS": "0.5"}
    with tempfile.TemporaryDirectory() as folder, live_server(Path(folder) / "data", **flush) as server:
        server.create_user("alice", admin=True)  # an admin, so the admin pages can be shown too
        server.create_user("bob")
        image_id, album_id = seed_images(server)
        for dark in (False, True):
            for path in shoot(server, image_id, album_id, out, dark=dark):
                print(f"{path} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
