"""Issue 22 in a real headless Chromium against a real `pinhole serve`, at desktop and phone sizes: copying links
right after an upload, the public viewer page (its preview metadata read from its HTML) and honest view counts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
import pyvips
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.select import Select

from tests.support.images import make_jpeg
from tests.web.live import LiveServer, chrome, ensure_chromium, live_server
from tests.web.test_e2e_browser import natural_width, sign_in, wait

pytestmark = pytest.mark.slow

SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("sharing") / "data") as live:
        live.create_user("alice")
        yield live


@pytest.fixture(params=sorted(SIZES))
def owner(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[webdriver.Chrome]:
    try:
        ensure_chromium()
    except RuntimeError as exc:
        pytest.fail(f"headless Chromium is required for the browser tests: {exc}")
    width, height = SIZES[request.param]
    driver = chrome(width=width, height=height)
    # The clipboard, as a person's click grants it: the test reads back what the page copied.
    driver.execute_cdp_cmd(
        "Browser.grantPermissions", {"permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]}
    )
    try:
        yield driver
    finally:
        with contextlib.suppress(Exception):
            driver.save_screenshot(str(tmp_path / "owner.png"))
        driver.quit()


def clipboard(driver: webdriver.Chrome) -> str:
    text = driver.execute_async_script(
        "navigator.clipboard.readText().then(arguments[0], (e) => arguments[0]('ERROR ' + e));"
    )
    return str(text)


def upload(driver: webdriver.Chrome, base: str, files: list[Path]) -> list[str]:
    """Upload `files` from the upload page; the ids of the finished rows, in order."""
    driver.find_element(By.ID, "files").send_keys("\n".join(str(path) for path in files))
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#uploads li.upload.done .copy-buttons")) == 2)
    links = driver.find_elements(By.CSS_SELECTOR, "#uploads li.upload.done a.result")
    return [str(link.get_attribute("href")).removeprefix(f"{base}/images/") for link in links]


def test_links_are_copied_right_after_upload(server: LiveServer, owner: webdriver.Chrome, tmp_path: Path) -> None:
    base = server.base
    files = [tmp_path / "harbour.jpg", tmp_path / "forest.jpg"]
    files[0].write_bytes(make_jpeg(1200, 800))
    files[1].write_bytes(make_jpeg(900, 600, seed=2))
    sign_in(owner, base)
    owner.get(f"{base}/upload")
    owner.find_element(By.ID, "auto-copy").click()
    Select(owner.find_element(By.ID, "copy-size")).select_by_value("640")
    ids = upload(owner, base, files)
    rows = owner.find_elements(By.CSS_SELECTOR, "#uploads li.upload.done")
    # Auto-copy put the link of the upload that finished first (in the chosen size) on the clipboard.
    wait(owner).until(lambda d: "first link" in d.find_element(By.ID, "copy-status").text)
    assert clipboard(owner) in {f"{base}/v2/images/{image_id}?w=640" for image_id in ids}

    rows[1].find_element(By.CSS_SELECTOR, "button[data-kind=Markdown]").click()
    wait(owner).until(lambda d: "Markdown" in d.find_element(By.ID, "copy-status").text)
    markdown = clipboard(owner)
    assert markdown.startswith("![")
    assert markdown.endswith(f"({base}/v2/images/{ids[1]}?w=640)")

    Select(owner.find_element(By.ID, "copy-size")).select_by_value("")
    Select(owner.find_element(By.ID, "copy-all-kind")).select_by_visible_text("BBCode")
    owner.find_element(By.ID, "copy-all").click()
    wait(owner).until(lambda d: "Copied 2 links" in d.find_element(By.ID, "copy-status").text)
    assert clipboard(owner).splitlines() == [f"[img]{base}/v2/images/{image_id}[/img]" for image_id in ids]

    owner.refresh()  # the auto-copy choice is remembered in this browser
    assert owner.find_element(By.ID, "auto-copy").is_selected()


class MetaTags(HTMLParser):
    """The `<meta property|name=... content=...>` and `<link rel=alternate>` of a page, as a chat app reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.oembed: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "meta" and "content" in values:
            self.meta[values.get("property") or values.get("name", "")] = values["content"]
        if tag == "link" and values.get("type") == "application/json+oembed":
            self.oembed = values["href"]


def meta_of(url: str) -> MetaTags:
    """Fetched signed out, with no script run: what a link preview bot sees."""
    response = httpx.get(url, follow_redirects=False)
    assert response.status_code == 200, response.text
    parser = MetaTags()
    parser.feed(response.text)
    return parser


def upload_one(driver: webdriver.Chrome, base: str, path: Path, description: str) -> str:
    """Upload one file from the upload page, give it a description on its page; its id."""
    driver.get(f"{base}/upload")
    driver.find_element(By.ID, "files").send_keys(str(path))
    link = wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#uploads li.upload.done a.result")))
    image_id = str(link.get_attribute("href")).rsplit("/", 1)[1]
    driver.get(f"{base}/images/{image_id}")
    driver.find_element(By.ID, "description").send_keys(description)
    driver.find_element(By.ID, "save-details").click()
    wait(driver).until(ec.presence_of_element_located((By.ID, "description-text")))
    return image_id


def image_size(url: str) -> tuple[int, int]:
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/")
    picture = pyvips.Image.new_from_buffer(response.content, "")
    return picture.width, picture.height


@pytest.fixture
def stranger(request: pytest.FixtureRequest) -> Iterator[webdriver.Chrome]:
    driver = chrome(width=390, height=844)  # strangers arrive from a chat on their phone
    try:
        yield driver
    finally:
        driver.quit()


def test_public_viewer_page_previews_and_private_never_leaks(
    server: LiveServer, owner: webdriver.Chrome, stranger: webdriver.Chrome, tmp_path: Path
) -> None:
    base = server.base
    path = tmp_path / "lighthouse.jpg"
    path.write_bytes(make_jpeg(1600, 1000))
    sign_in(owner, base)
    image_id = upload_one(owner, base, path, "The lighthouse at dusk")
    page = f"{base}/images/{image_id}"

    stranger.get(page)
    assert stranger.current_url == page  # no sign-in page for a public image
    assert stranger.find_element(By.ID, "viewer-title").text == "lighthouse"
    assert stranger.find_element(By.ID, "viewer-description").text == "The lighthouse at dusk"
    wait(stranger).until(lambda d: natural_width(d, "#viewer-image") > 0)
    assert natural_width(stranger, "#viewer-image") < 1600  # a srcset width fitting a phone, not the original
    assert stranger.find_element(By.ID, "download").get_attribute("href") == f"{base}/v2/images/{image_id}"

    tags = meta_of(page)
    assert tags.meta["og:title"] == "lighthouse"
    assert tags.meta["og:description"] == "The lighthouse at dusk"
    assert tags.meta["og:url"] == page
    assert tags.meta["twitter:card"] == "summary_large_image"
    assert (tags.meta["og:image:width"], tags.meta["og:image:height"]) == ("1200", "750")
    assert image_size(tags.meta["og:image"]) == (1200, 750)
    assert tags.oembed is not None
    embed = httpx.get(tags.oembed).json()
    assert (embed["type"], embed["version"], embed["title"]) == ("photo", "1.0", "lighthouse")
    assert image_size(embed["url"]) == (embed["width"], embed["height"])

    owner.get(page)
    owner.find_element(By.ID, "make-private").click()
    wait(owner).until(ec.text_to_be_present_in_element((By.ID, "visibility"), "private"))
    stranger.get(page)
    assert stranger.current_url.startswith(f"{base}/login")
    assert "lighthouse" not in stranger.page_source
    refused = httpx.get(page)
    assert refused.status_code == 303
    assert "lighthouse" not in refused.text
    assert httpx.get(f"{base}/oembed", params={"url": page}).status_code == 404

    # A share link opens the private image's page while the link lives.
    owner.find_element(By.ID, "create-share").click()
    share_url = str(wait(owner).until(ec.presence_of_element_located((By.ID, "new-share"))).get_attribute("value"))
    token = share_url.rsplit("/", 1)[1]
    share_page = f"{base}/s/{token}"
    stranger.get(share_page)
    assert stranger.find_element(By.ID, "viewer-title").text == "lighthouse"
    wait(stranger).until(lambda d: natural_width(d, "#viewer-image") > 0)
    assert meta_of(share_page).meta["og:image"].startswith(share_url)
    assert httpx.get(f"{base}/oembed", params={"url": share_page}).json()["type"] == "photo"
    owner.get(page)
    owner.find_element(By.CSS_SELECTOR, "#share-list button.danger").click()
    wait(owner).until(ec.text_to_be_present_in_element((By.ID, "notice"), "The share link is revoked."))
    stranger.get(share_page)
    assert "lighthouse" not in stranger.page_source
    assert httpx.get(share_page).status_code == 404
    assert httpx.get(f"{base}/oembed", params={"url": share_page}).status_code == 404


def views_on_owner_page(driver: webdriver.Chrome, base: str, image_id: str) -> int:
    driver.get(f"{base}/images/{image_id}")
    return int(driver.find_element(By.ID, "views").text)


def views_become(base: str, image_id: str, expected: int) -> Callable[[webdriver.Chrome], bool]:
    """Reload the owner's page until it shows `expected` views: a flush of the buffered counts running at the
    moment of a read can show them a moment late (never more than were counted)."""
    return lambda driver: views_on_owner_page(driver, base, image_id) == expected


def test_only_other_peoples_views_count(
    server: LiveServer, owner: webdriver.Chrome, stranger: webdriver.Chrome, tmp_path: Path
) -> None:
    base = server.base
    path = tmp_path / "cliff.jpg"
    path.write_bytes(make_jpeg(800, 600))
    sign_in(owner, base)
    image_id = upload_one(owner, base, path, "Cliffs")
    owner.get(f"{base}/images")  # the grid's thumbnail
    owner.get(f"{base}/v2/images/{image_id}")  # the owner opening the original itself
    owner.get(f"{base}/v2/images/{image_id}?w=320")
    assert views_on_owner_page(owner, base, image_id) == 0
    assert views_on_owner_page(owner, base, image_id) == 0  # the owner's own page loads do not count

    stranger.get(f"{base}/images/{image_id}")  # the viewer page: one view (its picture is not another)
    wait(stranger).until(lambda d: natural_width(d, "#viewer-image") > 0)
    wait(owner).until(views_become(base, image_id, 1))
    stranger.get(f"{base}/v2/images/{image_id}?w=320")  # a variant opened directly
    assert httpx.get(f"{base}/v2/images/{image_id}").status_code == 200  # the original, by a script
    wait(owner).until(views_become(base, image_id, 3))
    assert views_on_owner_page(owner, base, image_id) == 3  # and no more: the owner's reloads did not count


def test_lightbox_keys_swipe_and_escape(server: LiveServer, owner: webdriver.Chrome, tmp_path: Path) -> None:
    base = server.base
    files = [tmp_path / "one.jpg", tmp_path / "two.jpg"]
    files[0].write_bytes(make_jpeg(1800, 1200))
    files[1].write_bytes(make_jpeg(1000, 800, seed=3))
    sign_in(owner, base)
    owner.get(f"{base}/upload")
    upload(owner, base, files)
    owner.get(f"{base}/images")
    count = len(owner.find_elements(By.CSS_SELECTOR, ".grid .tile"))
    first = owner.find_elements(By.CSS_SELECTOR, ".grid .tile .lightbox-button")[0]
    first.click()
    box = owner.find_element(By.ID, "lightbox")
    assert box.is_displayed()
    wait(owner).until(lambda d: natural_width(d, "#lightbox-image") > 320)  # larger than the thumbnail
    assert owner.find_element(By.ID, "lightbox-position").text == f"1 of {count}"
    ActionChains(owner).send_keys(Keys.ARROW_RIGHT).perform()
    assert owner.find_element(By.ID, "lightbox-position").text == f"2 of {count}"
    ActionChains(owner).send_keys(Keys.ARROW_LEFT).perform()
    assert owner.find_element(By.ID, "lightbox-position").text == f"1 of {count}"
    # A swipe to the left on a phone: the next image.
    owner.execute_script(
        """const box = document.getElementById('lightbox');
        const touch = (x) => new Touch({identifier: 1, target: box, clientX: x, clientY: 300});
        box.dispatchEvent(new TouchEvent('touchstart', {changedTouches: [touch(300)], bubbles: true}));
        box.dispatchEvent(new TouchEvent('touchend', {changedTouches: [touch(100)], bubbles: true}));"""
    )
    assert owner.find_element(By.ID, "lightbox-position").text == f"2 of {count}"
    ActionChains(owner).send_keys(Keys.ESCAPE).perform()
    assert not box.is_displayed()
    assert owner.switch_to.active_element == first  # the focus goes back to the button that opened it


def tile_names(driver: webdriver.Chrome) -> list[str]:
    return [tile.text for tile in driver.find_elements(By.CSS_SELECTOR, ".grid .tile .name")]


def uploads_done(count: int) -> Callable[[webdriver.Chrome], bool]:
    return lambda driver: len(driver.find_elements(By.CSS_SELECTOR, "li.upload.done")) == count


def test_sorting_my_images(server: LiveServer, owner: webdriver.Chrome, tmp_path: Path) -> None:
    base = server.base
    user = f"sorter{owner.get_window_size()['width']}"
    server.create_user(user)
    files = {"b-middle.jpg": (900, 700), "a-large.jpg": (1600, 1200), "c-small.jpg": (300, 200)}
    sign_in(owner, base, user)
    owner.get(f"{base}/upload")
    for done, (name, (width, height)) in enumerate(files.items(), start=1):  # one at a time: in date order
        (tmp_path / name).write_bytes(make_jpeg(width, height))
        owner.find_element(By.ID, "files").send_keys(str(tmp_path / name))
        wait(owner).until(uploads_done(done))
    owner.get(f"{base}/images")
    assert tile_names(owner) == ["c-small.jpg", "a-large.jpg", "b-middle.jpg"]  # newest first
    for value, expected in (
        ("largest", ["a-large.jpg", "b-middle.jpg", "c-small.jpg"]),
        ("smallest", ["c-small.jpg", "b-middle.jpg", "a-large.jpg"]),
        ("name", ["a-large.jpg", "b-middle.jpg", "c-small.jpg"]),
        ("oldest", ["b-middle.jpg", "a-large.jpg", "c-small.jpg"]),
    ):
        Select(owner.find_element(By.ID, "sort")).select_by_value(value)
        owner.find_element(By.CSS_SELECTOR, "form.search button[type=submit]").click()
        wait(owner).until(ec.url_contains(f"sort={value}"))
        assert tile_names(owner) == expected
    assert httpx.get(f"{base}/images?sort=sideways", cookies=owner_cookies(owner)).status_code == 400


def owner_cookies(driver: webdriver.Chrome) -> dict[str, str]:
    return {cookie["name"]: cookie["value"] for cookie in driver.get_cookies()}


def test_favicon_theme_toggle_and_phone_wording(server: LiveServer, owner: webdriver.Chrome) -> None:
    base = server.base
    icon = httpx.get(f"{base}/favicon.ico")
    assert icon.status_code == 200  # served, not redirected
    assert icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO header
    assert pyvips.Image.new_from_buffer(icon.content[icon.content.index(b"\x89PNG") :], "").width == 16
    sign_in(owner, base)
    background = "return getComputedStyle(document.body).backgroundColor"
    system = owner.execute_script(background)  # the browser is in the light scheme
    toggle = owner.find_element(By.ID, "theme-toggle")
    assert toggle.text == "Theme: system"
    toggle.click()
    assert toggle.text == "Theme: light"
    assert owner.execute_script(background) == system
    toggle.click()
    assert owner.find_element(By.ID, "theme-toggle").text == "Theme: dark"
    dark = owner.execute_script(background)
    assert dark != system
    owner.get(f"{base}/upload")  # remembered on the next page
    assert owner.execute_script(background) == dark
    owner.find_element(By.ID, "theme-toggle").click()
    assert owner.execute_script(background) == system

    phone = owner.get_window_size()["width"] < 600
    if phone:
        owner.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
        owner.refresh()
    zone = owner.find_element(By.ID, "dropzone").text
    assert ("Choose photos" in zone) == phone
    assert ("Ctrl+V" in zone) != phone
    label = owner.find_element(By.CSS_SELECTOR, "label[for=upload-tags]").rect
    box = owner.find_element(By.ID, "upload-tags").rect
    assert abs((label["y"] + label["height"] / 2) - (box["y"] + box["height"] / 2)) < box["height"]  # one row


def test_any_size_in_the_picker(server: LiveServer, owner: webdriver.Chrome, tmp_path: Path) -> None:
    base = server.base
    path = tmp_path / "small.jpg"
    path.write_bytes(make_jpeg(640, 480))
    sign_in(owner, base)
    image_id = upload_one(owner, base, path, "A small photo")
    owner.get(f"{base}/images/{image_id}")
    owner.find_element(By.ID, "custom-w").send_keys("400")
    owner.find_element(By.ID, "custom-h").send_keys("400")
    Select(owner.find_element(By.ID, "custom-fit")).select_by_value("cover")
    url = owner.find_element(By.CSS_SELECTOR, "input[data-kind=URL]").get_attribute("value")
    assert url == f"{base}/v2/images/{image_id}?w=400&h=400&fit=cover"
    wait(owner).until(lambda d: natural_width(d, "#preview") == 400)
    assert image_size(str(url)) == (400, 400)  # a square crop, as asked
    Select(owner.find_element(By.ID, "format")).select_by_value("webp")
    url = owner.find_element(By.CSS_SELECTOR, "input[data-kind=URL]").get_attribute("value")
    assert url == f"{base}/v2/images/{image_id}?w=400&h=400&fit=cover&format=webp"
    Select(owner.find_element(By.ID, "size")).select_by_value("320")  # a fixed width clears the custom size
    assert owner.find_element(By.ID, "custom-w").get_attribute("value") == ""
    url = owner.find_element(By.CSS_SELECTOR, "input[data-kind=URL]").get_attribute("value")
    assert url == f"{base}/v2/images/{image_id}?w=320&format=webp"


def test_admin_moderates_all_uploads(server: LiveServer, owner: webdriver.Chrome, tmp_path: Path) -> None:
    base = server.base
    width = owner.get_window_size()["width"]
    admin, uploader = f"root{width}", f"mallory{width}"
    server.create_user(admin, admin=True)
    server.create_user(uploader)
    files = [tmp_path / "spam-1.jpg", tmp_path / "spam-2.jpg"]
    files[0].write_bytes(make_jpeg(500, 400))
    files[1].write_bytes(make_jpeg(400, 300, seed=5))
    sign_in(owner, base, uploader)
    owner.get(f"{base}/upload")
    ids = upload(owner, base, files)
    owner.delete_all_cookies()

    sign_in(owner, base, admin)
    owner.get(f"{base}/admin/images")
    shown = {box.get_attribute("value") for box in owner.find_elements(By.CSS_SELECTOR, "input[name=ids]")}
    assert set(ids) <= shown  # other accounts' uploads, not only the admin's own
    owner.find_element(By.ID, "f-user").send_keys(uploader)
    owner.find_element(By.CSS_SELECTOR, "#moderation-filters button[type=submit]").click()
    wait(owner).until(ec.url_contains(f"user={uploader}"))
    shown = {box.get_attribute("value") for box in owner.find_elements(By.CSS_SELECTOR, "input[name=ids]")}
    assert shown == set(ids)
    assert all(uploader in tile.text for tile in owner.find_elements(By.CSS_SELECTOR, ".tile-owner"))
    Select(owner.find_element(By.ID, "f-privacy")).select_by_value("private")
    owner.find_element(By.CSS_SELECTOR, "#moderation-filters button[type=submit]").click()
    wait(owner).until(ec.url_contains("privacy=private"))
    assert owner.find_elements(By.CSS_SELECTOR, "input[name=ids]") == []  # the uploads are public

    owner.get(f"{base}/admin/images?user={uploader}")
    owner.find_element(By.ID, "select-all").click()
    owner.find_element(By.ID, "moderate-delete").click()
    owner.switch_to.alert.accept()
    wait(owner).until(ec.text_to_be_present_in_element((By.ID, "notice"), "Moved 2 images to the trash"))
    for image_id in ids:
        assert httpx.get(f"{base}/v2/images/{image_id}").headers.get("X-Pinhole-Fallback") == "1"
    owner.get(f"{base}/admin/images?user={uploader}")
    assert owner.find_elements(By.CSS_SELECTOR, "input[name=ids]") == []
