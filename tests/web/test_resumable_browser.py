"""Resumable uploads and links in a real headless Chromium against a real `pinhole serve`.

The upload page's own tus client: Pause then Resume (the server tells where to go on from), and a connection lost
mid-upload (the browser goes offline) then Resume. tus-js-client (the reference client, from npm) against
`/v2/uploads` with the browser session: an upload cut off mid-PATCH (aborted) and resumed from the server's offset.
"Paste a link": the server fetches an image from an origin on loopback (private networks allowed for the test).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

from tests.support.images import make_jpeg
from tests.support.origin import Origin, run_origin
from tests.web.live import PASSWORD, LiveServer, browser, live_server
from tests.web.tusjs import tus_js_client

pytestmark = pytest.mark.slow

WAIT = 60
CHUNK = 16384


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = {
        "PINHOLE_WEB__RESUMABLE_THRESHOLD_BYTES": "50000",
        "PINHOLE_WEB__RESUMABLE_CHUNK_BYTES": str(CHUNK),
        "PINHOLE_FETCH__ALLOW_PRIVATE_NETWORKS": "true",
    }
    with live_server(tmp_path_factory.mktemp("resumable") / "data", **settings) as live:
        live.create_user("alice")
        yield live


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    with run_origin() as running:
        yield running


@pytest.fixture
def owner(server: LiveServer, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[webdriver.Chrome]:
    with browser(request, tmp_path, "resumable") as driver:
        sign_in(driver, server.base)
        yield driver


def wait(driver: webdriver.Chrome) -> WebDriverWait[webdriver.Chrome]:
    return WebDriverWait(driver, WAIT)


def sign_in(driver: webdriver.Chrome, base: str) -> None:
    driver.get(f"{base}/login")
    driver.find_element(By.ID, "login").send_keys("alice")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit].primary").click()
    WebDriverWait(driver, WAIT).until(lambda d: d.current_url == f"{base}/images")


def slow_network(driver: webdriver.Chrome, *, offline: bool = False, latency: int = 150) -> None:
    """Chromium's own network emulation: each request takes `latency` ms more (or fails, offline)."""
    driver.execute_cdp_cmd("Network.enable", {})
    conditions = {"offline": offline, "latency": latency, "downloadThroughput": -1, "uploadThroughput": -1}
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", conditions)


def big_photo(tmp_path: Path) -> Path:
    photo = tmp_path / "panorama.jpg"
    photo.write_bytes(make_jpeg(1600, 1000, quality=95))
    assert photo.stat().st_size > 10 * CHUNK  # many pieces: time to pause between them
    return photo


def offset_of(item: WebElement) -> int:
    return int(item.get_attribute("data-offset") or 0)


def test_the_upload_page_pauses_and_resumes(server: LiveServer, owner: webdriver.Chrome, tmp_path: Path) -> None:
    photo = big_photo(tmp_path)
    owner.get(f"{server.base}/upload")
    slow_network(owner)
    owner.find_element(By.ID, "files").send_keys(str(photo))
    item = wait(owner).until(lambda d: d.find_element(By.CSS_SELECTOR, "#uploads li.upload"))
    wait(owner).until(lambda d: offset_of(item) > 0)  # the server acknowledged a first piece
    item.find_element(By.CSS_SELECTOR, "button.pause").click()
    wait(owner).until(lambda d: "Paused at" in item.find_element(By.CSS_SELECTOR, ".status").text)
    paused_at = offset_of(item)
    assert 0 < paused_at < photo.stat().st_size
    assert item.find_element(By.CSS_SELECTOR, "button.pause").text == "Resume"
    assert not item.find_elements(By.CSS_SELECTOR, "a.result")

    slow_network(owner, latency=0)
    item.find_element(By.CSS_SELECTOR, "button.pause").click()
    wait(owner).until(lambda d: "done" in (item.get_attribute("class") or ""))
    resumed_from = int(item.get_attribute("data-resumed-from") or -1)
    assert resumed_from >= paused_at  # went on from what the server had, not from the start
    assert item.find_element(By.CSS_SELECTOR, "progress").get_attribute("value") == "100"
    item.find_element(By.CSS_SELECTOR, "a.result").click()
    wait(owner).until(lambda d: "/images/" in d.current_url)
    assert "panorama.jpg" in owner.page_source


def test_a_lost_connection_pauses_and_resume_finishes(
    server: LiveServer, owner: webdriver.Chrome, tmp_path: Path
) -> None:
    photo = big_photo(tmp_path)
    owner.get(f"{server.base}/upload")
    slow_network(owner)
    owner.find_element(By.ID, "files").send_keys(str(photo))
    item = wait(owner).until(lambda d: d.find_element(By.CSS_SELECTOR, "#uploads li.upload"))
    wait(owner).until(lambda d: offset_of(item) > 0)
    slow_network(owner, offline=True)  # the network goes away mid-upload
    wait(owner).until(lambda d: "Connection lost" in item.find_element(By.CSS_SELECTOR, ".status").text)
    cut_at = offset_of(item)
    assert 0 < cut_at < photo.stat().st_size

    slow_network(owner, latency=0)
    item.find_element(By.CSS_SELECTOR, "button.pause").click()
    wait(owner).until(lambda d: "done" in (item.get_attribute("class") or ""))
    assert int(item.get_attribute("data-resumed-from") or -1) >= cut_at


TUS_JS_UPLOAD = """
const [b64, chunkSize, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const file = new Blob([bytes], { type: "image/jpeg" });
const csrf = document.getElementById("dropzone").dataset.csrf;
const seen = { heads: [], cut: false };
const options = {
  endpoint: "/v2/uploads",
  chunkSize,
  headers: { "X-CSRF-Token": csrf },
  metadata: { filename: "tusjs.jpg", description: "sent by tus-js-client", tags: "tus,js" },
  fingerprint: async () => "pinhole-tus-js-test",
  // The cut PATCH's bytes are recorded when the server notices the cut, which may be just after the resumed
  // upload's HEAD: its PATCH then gets 409 and, like any tus client, asks again (tus-js-client retries on 409).
  retryDelays: [200, 500, 1000],
  onAfterResponse: (req, res) => {
    if (req.getMethod() === "HEAD") seen.heads.push(Number(res.getHeader("Upload-Offset")));
  },
  onError: (error) => done({ error: String(error) }),
  onSuccess: () => done({ url: upload.url, seen }),
};
let upload = new tus.Upload(file, {
  ...options,
  onProgress: (sent, total) => {
    if (seen.cut || sent < total / 3) return;
    seen.cut = true;  // cut the connection mid-PATCH, then resume as a new upload object would after a reload
    upload.abort().then(async () => {
      upload = new tus.Upload(file, options);
      const previous = await upload.findPreviousUploads();
      upload.resumeFromPreviousUpload(previous[0]);
      upload.start();
    });
  },
});
upload.start();
"""

FETCH_RESULT = """
const done = arguments[arguments.length - 1];
fetch(arguments[0]).then(async (r) => done({
  status: r.status, imageId: r.headers.get("Pinhole-Image-Id"), body: await r.json(),
}));
"""


def test_tus_js_client_resumes_a_cut_upload(server: LiveServer, owner: webdriver.Chrome) -> None:
    source = tus_js_client()
    photo = make_jpeg(1200, 900, quality=95)
    owner.get(f"{server.base}/upload")
    owner.execute_script(source)
    owner.set_script_timeout(WAIT)
    result: dict[str, Any] = owner.execute_async_script(TUS_JS_UPLOAD, base64.b64encode(photo).decode(), CHUNK * 4)
    assert "error" not in result, result
    assert result["seen"]["cut"]
    resumed_from = result["seen"]["heads"][-1]  # the HEAD of the resumed upload
    assert 0 < resumed_from < len(photo)
    got: dict[str, Any] = owner.execute_async_script(FETCH_RESULT, result["url"])
    assert got["status"] == 200
    body = got["body"]
    assert got["imageId"] == body["id"]
    assert (body["width"], body["height"], body["originalName"]) == (1200, 900, "tusjs.jpg")
    assert (body["description"], body["tags"]) == ("sent by tus-js-client", ["js", "tus"])


TUS_JS_WITH_CREATION = """
const [b64, chunkSize, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const csrf = document.getElementById("dropzone").dataset.csrf;
const methods = [];
const upload = new tus.Upload(new Blob([bytes], { type: "image/jpeg" }), {
  endpoint: "/v2/uploads",
  chunkSize,
  uploadDataDuringCreation: true,
  headers: { "X-CSRF-Token": csrf },
  metadata: { filename: "created.jpg" },
  storeFingerprintForResuming: false,
  retryDelays: null,
  onAfterResponse: (req, res) => methods.push([req.getMethod(), res.getStatus(), res.getHeader("Upload-Offset")]),
  onError: (error) => done({ error: String(error) }),
  onSuccess: () => done({ url: upload.url, methods }),
});
upload.start();
"""


def test_tus_js_client_sends_the_first_bytes_with_the_creation(server: LiveServer, owner: webdriver.Chrome) -> None:
    source = tus_js_client()
    photo = make_jpeg(800, 600, quality=90)
    owner.get(f"{server.base}/upload")
    owner.execute_script(source)
    owner.set_script_timeout(WAIT)
    chunk = len(photo) // 2 + 1  # the POST carries the first half, one PATCH the rest
    result: dict[str, Any] = owner.execute_async_script(TUS_JS_WITH_CREATION, base64.b64encode(photo).decode(), chunk)
    assert "error" not in result, result
    assert result["methods"] == [["POST", 201, str(chunk)], ["PATCH", 204, str(len(photo))]]
    got: dict[str, Any] = owner.execute_async_script(FETCH_RESULT, result["url"])
    assert got["status"] == 200
    assert (got["body"]["width"], got["body"]["height"], got["body"]["originalName"]) == (800, 600, "created.jpg")


def test_paste_a_link(server: LiveServer, owner: webdriver.Chrome, origin: Origin) -> None:
    owner.get(f"{server.base}/upload")
    owner.find_element(By.ID, "link").send_keys(f"{origin.base}/redirect/1")
    owner.find_element(By.CSS_SELECTOR, "#link-form button[type=submit]").click()
    item = wait(owner).until(lambda d: d.find_element(By.CSS_SELECTOR, "#uploads li.upload.done"))
    assert origin.base in item.text
    item.find_element(By.CSS_SELECTOR, "a.result").click()
    wait(owner).until(lambda d: "/images/" in d.current_url)
    assert "image.jpg" in owner.page_source
