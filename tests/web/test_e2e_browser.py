"""End to end in a real headless Chromium against a real `pinhole serve`: sign in, upload two files, see them in the
grid, open one, pick a size, share it with a signed-out browser, make it private, delete it, sign out; an admin
closing sign-up from the Settings page (by keyboard) and the sign-up page refusing; "My images" loading the next
page as the grid is scrolled.

A failure saves a screenshot of each browser next to the test's temp folder and prints where.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from pinhole.web.images import PAGE_SIZE
from tests.support.images import make_jpeg
from tests.web.live import PASSWORD, LiveServer, chrome, ensure_chromium, live_server

pytestmark = pytest.mark.slow

WAIT = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("e2e") / "data") as live:
        live.create_user("alice")
        yield live


@pytest.fixture
def browsers(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[dict[str, webdriver.Chrome]]:
    """The owner's browser and a signed-out one; screenshots of both when the test fails."""
    try:
        ensure_chromium()
    except RuntimeError as exc:
        pytest.fail(f"headless Chromium is required for the end-to-end tests: {exc}")
    drivers = {"owner": chrome(), "stranger": chrome()}
    try:
        yield drivers
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is None or report.failed:
            for name, driver in drivers.items():
                with contextlib.suppress(Exception):
                    path = tmp_path / f"failure-{name}.png"
                    driver.save_screenshot(str(path))
                    print(f"\nscreenshot of the {name}'s browser: {path}")
        for driver in drivers.values():
            driver.quit()


def wait(driver: webdriver.Chrome) -> WebDriverWait[webdriver.Chrome]:
    # A form post replaces the page: an element found on the old one may go stale while the new one loads.
    return WebDriverWait(driver, WAIT, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))


def natural_width(driver: webdriver.Chrome, css: str) -> int:
    width = driver.execute_script(
        "const img = document.querySelector(arguments[0]); return img && img.complete ? img.naturalWidth : 0;", css
    )
    return int(width or 0)


def sign_in(driver: webdriver.Chrome, base: str, username: str = "alice") -> None:
    driver.get(f"{base}/login")
    driver.find_element(By.ID, "login").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit].primary").click()
    wait(driver).until(ec.url_to_be(f"{base}/images"))


def upload_two(driver: webdriver.Chrome, base: str, tmp_path: Path) -> None:
    files = [tmp_path / "harbour.jpg", tmp_path / "forest.jpg"]
    files[0].write_bytes(make_jpeg(1200, 800))
    files[1].write_bytes(make_jpeg(900, 600, seed=2))
    driver.get(f"{base}/upload")
    driver.find_element(By.ID, "files").send_keys("\n".join(str(path) for path in files))
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#uploads li.upload.done a.result")) == 2)
    bars = driver.find_elements(By.CSS_SELECTOR, "#uploads progress")
    assert [bar.get_attribute("value") for bar in bars] == ["100", "100"]


def test_the_whole_flow_in_chromium(server: LiveServer, browsers: dict[str, webdriver.Chrome], tmp_path: Path) -> None:
    owner, stranger = browsers["owner"], browsers["stranger"]
    base = server.base
    sign_in(owner, base)
    upload_two(owner, base, tmp_path)

    owner.get(f"{base}/images")
    tiles = owner.find_elements(By.CSS_SELECTOR, ".grid .tile")
    assert len(tiles) == 2
    wait(owner).until(lambda d: natural_width(d, ".grid .tile img:not(.lqip)") == 320)  # small WebP thumbnails

    owner.find_element(By.CSS_SELECTOR, ".grid .tile a.thumb").click()
    wait(owner).until(ec.presence_of_element_located((By.ID, "preview")))
    image_path = owner.current_url.removeprefix(base)
    image_id = image_path.rsplit("/", 1)[1]
    original_width = int(owner.find_element(By.ID, "dimensions").text.split()[0])
    Select(owner.find_element(By.ID, "size")).select_by_value("320")
    wait(owner).until(lambda d: natural_width(d, "#preview") == 320)
    url_field = owner.find_element(By.CSS_SELECTOR, "input[data-kind=URL]")
    assert url_field.get_attribute("value") == f"{base}/v2/images/{image_id}?w=320"
    markdown = owner.find_element(By.CSS_SELECTOR, "input[data-kind=Markdown]").get_attribute("value")
    assert markdown is not None
    assert markdown.endswith(f"({base}/v2/images/{image_id}?w=320)")

    owner.find_element(By.ID, "create-share").click()
    share_url = wait(owner).until(ec.presence_of_element_located((By.ID, "new-share"))).get_attribute("value")
    assert share_url is not None
    stranger.get(share_url)
    wait(stranger).until(lambda d: natural_width(d, "img") == original_width)

    owner.get(f"{base}{image_path}")
    owner.find_element(By.ID, "make-private").click()
    wait(owner).until(ec.text_to_be_present_in_element((By.ID, "visibility"), "private"))
    stranger.get(f"{base}{image_path}")
    assert stranger.current_url.startswith(f"{base}/login")  # the page needs the owner
    fallback = stranger.execute_async_script(
        "fetch(arguments[0]).then(r => arguments[1](r.headers.get('X-Pinhole-Fallback')));",
        f"{base}/v2/images/{image_id}",
    )
    assert fallback == "1"  # the anonymous view gets the placeholder, not the image
    stranger.get(share_url)
    wait(stranger).until(lambda d: natural_width(d, "img") == original_width)  # the share link still opens it

    owner.find_element(By.ID, "delete-image").click()  # no confirmation: it goes to the trash, with an undo
    wait(owner).until(ec.text_to_be_present_in_element((By.ID, "notice"), "Moved 1 image to the trash"))
    assert owner.current_url == f"{base}/images"  # the notice is not in the address
    assert len(owner.find_elements(By.CSS_SELECTOR, ".grid .tile")) == 1
    owner.get(f"{base}{image_path}")
    assert "Image not found." in owner.find_element(By.CSS_SELECTOR, ".error").text

    owner.find_element(By.ID, "sign-out").click()
    wait(owner).until(ec.text_to_be_present_in_element((By.ID, "notice"), "You are signed out."))
    owner.get(f"{base}/images")
    assert owner.current_url.startswith(f"{base}/login")


def test_upload_errors_are_shown_per_file(
    server: LiveServer, browsers: dict[str, webdriver.Chrome], tmp_path: Path
) -> None:
    owner = browsers["owner"]
    sign_in(owner, server.base)
    good, bad = tmp_path / "fine.jpg", tmp_path / "notes.jpg"
    good.write_bytes(make_jpeg(200, 100))
    bad.write_bytes(b"these are notes, not a picture\n" * 20)
    owner.get(f"{server.base}/upload")
    owner.find_element(By.ID, "files").send_keys(f"{good}\n{bad}")
    wait(owner).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#uploads li.done, #uploads li.failed")) == 2)
    failed = owner.find_element(By.CSS_SELECTOR, "#uploads li.failed")
    assert "notes.jpg" in failed.text
    assert "Not an image pinhole accepts" in failed.find_element(By.CSS_SELECTOR, ".status").text
    assert len(owner.find_elements(By.CSS_SELECTOR, "#uploads li.done a.result")) == 1


def test_album_flow_in_chromium(server: LiveServer, browsers: dict[str, webdriver.Chrome], tmp_path: Path) -> None:
    """Create an album, add an image from its page, make an album link and open it in a signed-out browser."""
    owner, stranger = browsers["owner"], browsers["stranger"]
    base = server.base
    sign_in(owner, base)
    picture = tmp_path / "lake.jpg"
    picture.write_bytes(make_jpeg(800, 600, seed=3))
    owner.get(f"{base}/upload")
    owner.find_element(By.ID, "files").send_keys(str(picture))
    result = wait(owner).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#uploads li.upload.done a.result")))
    image_id = (result.get_attribute("href") or "").rstrip("/").rsplit("/", 1)[1].split("?", 1)[0]

    owner.get(f"{base}/albums")
    owner.find_element(By.ID, "album-name").send_keys("Lakes")
    owner.find_element(By.ID, "album-description").send_keys("Cold water")
    owner.find_element(By.ID, "create-album").click()
    wait(owner).until(ec.text_to_be_present_in_element((By.ID, "album-name-heading"), "Lakes"))
    album_path = owner.current_url.removeprefix(base).split("?", 1)[0]

    owner.get(f"{base}/images/{image_id}")
    Select(owner.find_element(By.ID, "add-album")).select_by_visible_text("Lakes")
    owner.find_element(By.ID, "add-to-album").click()
    wait(owner).until(ec.url_to_be(f"{base}{album_path}"))  # "Add to album" lands on the album
    assert "Added to the album." in owner.find_element(By.ID, "notice").text
    owner.get(f"{base}/images/{image_id}")
    assert owner.find_element(By.CSS_SELECTOR, "#image-albums a").text == "Lakes"

    owner.get(f"{base}{album_path}")
    assert len(owner.find_elements(By.CSS_SELECTOR, "#album-grid .tile")) == 1
    owner.find_element(By.ID, "create-token").click()
    link = wait(owner).until(ec.presence_of_element_located((By.ID, "new-token"))).get_attribute("value")
    assert link is not None
    assert link.startswith(f"{base}{album_path}?token=alb_")

    stranger.get(f"{base}{album_path}")
    assert "Album not found." in stranger.find_element(By.CSS_SELECTOR, ".error").text  # private without the link
    stranger.get(link)
    wait(stranger).until(ec.text_to_be_present_in_element((By.ID, "album-name-heading"), "Lakes"))
    assert stranger.find_elements(By.ID, "sign-out") == []  # signed out
    assert stranger.find_elements(By.ID, "save-album") == []  # no owner's forms
    wait(stranger).until(lambda d: natural_width(d, "#album-grid .tile img:not(.lqip)") == 320)


@pytest.fixture(scope="module")
def signup_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose configuration opens sign-up, with an admin account."""
    with live_server(tmp_path_factory.mktemp("e2e-signup") / "data", PINHOLE_WEB__SIGNUP="true") as live:
        live.create_user("root", admin=True)
        live.create_user("bob")
        yield live


def test_admin_closes_sign_up_in_chromium(signup_server: LiveServer, browsers: dict[str, webdriver.Chrome]) -> None:
    admin, stranger = browsers["owner"], browsers["stranger"]
    base = signup_server.base
    stranger.get(f"{base}/signup")
    assert stranger.find_element(By.TAG_NAME, "h1").text == "Create an account"

    sign_in(admin, base, "root")
    admin.get(f"{base}/admin")
    admin.find_element(By.CSS_SELECTOR, 'nav[aria-label="Admin"] a[href="/admin/settings"]').click()
    wait(admin).until(ec.presence_of_element_located((By.ID, "setting-signup")))
    assert admin.find_element(By.ID, "setting-signup-value").text == "on"
    admin.find_element(By.ID, "signup-off").send_keys(Keys.SPACE)  # the switch and the button work by keyboard
    admin.find_element(By.ID, "signup-save").send_keys(Keys.ENTER)
    wait(admin).until(ec.text_to_be_present_in_element((By.ID, "notice"), "The setting is changed."))
    assert admin.find_element(By.ID, "setting-signup-value").text == "off"
    assert "Changed by root" in admin.find_element(By.ID, "setting-signup-source").text

    stranger.get(f"{base}/signup")
    assert "Sign-up is not open on this server." in stranger.find_element(By.CSS_SELECTOR, ".error").text
    assert stranger.find_elements(By.ID, "password2") == []
    stranger.get(f"{base}/login")
    assert stranger.find_elements(By.CSS_SELECTOR, 'a[href="/signup"]') == []

    admin.find_element(By.ID, "signup-reset").click()
    wait(admin).until(ec.text_to_be_present_in_element((By.ID, "notice"), "back to its configured value"))
    assert admin.find_element(By.ID, "setting-signup-value").text == "on"
    stranger.get(f"{base}/signup")
    assert stranger.find_element(By.TAG_NAME, "h1").text == "Create an account"


# Uploads `arguments[0]` small JPEGs drawn on a canvas, one after another, the way upload.js sends files.
UPLOAD_DRAWN = """
const [count, done] = arguments;
const csrf = document.querySelector("input[name=csrf]").value;
(async () => {
  for (let n = 0; n < count; n++) {
    const canvas = document.createElement("canvas");
    canvas.width = 40; canvas.height = 30;
    const context = canvas.getContext("2d");
    context.fillStyle = `hsl(${n * 12}, 70%, 50%)`;
    context.fillRect(0, 0, 40, 30);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg"));
    const form = new FormData();
    form.append("file", blob, `drawn-${n}.jpg`);
    const response = await fetch("/v2/images", {method: "POST", body: form, headers: {"X-CSRF-Token": csrf}});
    if (response.status !== 201) return done(`upload ${n}: HTTP ${response.status}`);
  }
  done("ok");
})();
"""


def test_my_images_scrolls_to_the_next_page(signup_server: LiveServer, browsers: dict[str, webdriver.Chrome]) -> None:
    owner = browsers["owner"]
    base = signup_server.base
    sign_in(owner, base, "bob")
    total = PAGE_SIZE + 6
    assert owner.execute_async_script(UPLOAD_DRAWN, total) == "ok"

    owner.get(f"{base}/images")
    assert len(owner.find_elements(By.CSS_SELECTOR, "#bulk .grid .tile")) == PAGE_SIZE
    assert owner.find_elements(By.CSS_SELECTOR, ".pager a[rel=next]") != []
    owner.execute_script("window.scrollTo(0, document.body.scrollHeight);")
    wait(owner).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#bulk .grid .tile")) == total)
    ids = [box.get_attribute("value") for box in owner.find_elements(By.CSS_SELECTOR, "#bulk input[name=ids]")]
    assert len(set(ids)) == total
    assert owner.find_elements(By.CSS_SELECTOR, ".pager a[rel=next]") == []  # the last page is in
    assert owner.current_url == f"{base}/images"
    owner.find_element(By.ID, "select-all").click()  # the appended tiles belong to the bulk form
    assert owner.find_element(By.ID, "selected-count").text == f"{total} selected"
