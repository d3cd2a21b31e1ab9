"""The TypeScript SDK's uploads in a real headless Chromium against a real pinhole server: progress in many steps
from XMLHttpRequest's upload events, and per tus chunk.

The compiled modules (dist/) are loaded into a page of the server's own origin as blob: modules (their relative
imports rewritten to the blob URLs), so the SDK talks to the server without CORS, as an app served by it would.
The upload is throttled with Chromium's network emulation, as on a real connection: over loopback a few MB go out
in milliseconds, and browsers report upload progress at most every 50 ms.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.images import make_jpeg
from tests.support.node import build, ensure_node
from tests.support.server import Server, running_server
from tests.web.live import chrome

pytestmark = pytest.mark.slow
PROJECT = Path(__file__).resolve().parents[2] / "clients" / "typescript"
SIZE = (3000, 2000)
UPLOAD_BYTES_PER_SECOND = 3 * 1024 * 1024

SCRIPT = """
const [sources, baseUrl, apiKey, encoded, options, done] = arguments;
const urls = {};
function load(name) {
  if (!urls[name]) {
    const code = sources[name].replace(/from "\\.\\/([\\w.-]+\\.js)"/g, (_, dep) => `from "${load(dep)}"`);
    urls[name] = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  }
  return urls[name];
}
(async () => {
  const sdk = await import(load("index.js"));
  const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  const file = new File([bytes], "browser.jpg", { type: "image/jpeg" });
  const client = new sdk.PinholeClient({ baseUrl, apiKey });
  const seen = [];
  const image = await client.upload(file, { ...options, onProgress: (s, t) => seen.push([s, t]) });
  done({ image, seen, xhr: typeof XMLHttpRequest });
})().catch((error) => done({ error: String(error && error.stack || error) }));
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("ts-browser-server")) as running:
        yield running


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    ensure_node()
    build(PROJECT)
    return {path.name: path.read_text() for path in (PROJECT / "dist").glob("*.js")}


@pytest.mark.parametrize(
    ("options", "at_least"),
    [
        ({"resumable": False}, 5),  # XMLHttpRequest's upload.onprogress
        ({"resumable": True, "chunkSize": 512 * 1024}, 5),  # one event per tus chunk the server confirmed
    ],
    ids=["xhr", "tus"],
)
def test_browser_upload_reports_increasing_progress(
    server: Server, sources: dict[str, str], options: dict[str, Any], at_least: int
) -> None:
    data = make_jpeg(*SIZE, quality=97)
    assert len(data) > 2 * 1024 * 1024
    driver = chrome()
    try:
        driver.get(f"{server.url}/v2/status")  # a page of the server's origin
        conditions = {"latency": 5, "download_throughput": 50 * 1024 * 1024}
        driver.set_network_conditions(**conditions, upload_throughput=UPLOAD_BYTES_PER_SECOND)
        driver.set_script_timeout(120)
        encoded = base64.b64encode(data).decode()
        result = driver.execute_async_script(SCRIPT, sources, server.url, server.api_key, encoded, options)
    finally:
        driver.quit()
    assert "error" not in result, result.get("error")
    assert result["xhr"] == "function"
    assert (result["image"]["width"], result["image"]["height"]) == SIZE
    sent = [event[0] for event in result["seen"]]
    assert len(sent) >= at_least, sent
    assert sent == sorted(set(sent)), sent  # strictly increasing
    assert sent[0] < len(data) == sent[-1]
    assert {event[1] for event in result["seen"]} == {len(data)}
