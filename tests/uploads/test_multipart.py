"""Uploads through a real Starlette app: fields and files arrive intact, limits and bad bodies are refused."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from starlette.applications import Starlette

from pinhole.uploads import ParsedForm
from tests.uploads.bodies import BOUNDARY, CONTENT_TYPE, HEADERS, body, chunked, closing, part
from tests.uploads.conftest import Send

pytestmark = pytest.mark.anyio

KB = 1024


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(tmp_dir: Path) -> list[Path]:
    return list(tmp_dir.iterdir()) if tmp_dir.exists() else []


async def test_fields_and_several_files(send: Send, tmp_dir: Path) -> None:
    png, jpeg, notes = b"\x89PNG" + bytes(range(256)) * 40, b"\xff\xd8" * 3000, b"plain"
    files = [
        ("image", ("a.png", png, "image/png")),
        ("image", ("b.jpg", jpeg, "image/jpeg")),
        ("notes", ("n.txt", notes, "text/plain")),
    ]

    response = await send(data={"title": "Cat", "tags": ["x", "y"]}, files=files)

    assert response.status_code == 200
    assert response.json()["fields"] == {"title": ["Cat"], "tags": ["x", "y"]}
    got = [(f["field"], f["filename"], f["content_type"], f["size"], f["sha256"]) for f in response.json()["files"]]
    assert got == [
        ("image", "a.png", "image/png", len(png), sha(png)),
        ("image", "b.jpg", "image/jpeg", len(jpeg), sha(jpeg)),
        ("notes", "n.txt", "text/plain", len(notes), sha(notes)),
    ]
    assert all(f["disk_sha256"] == f["sha256"] and f["disk_size"] == f["size"] for f in response.json()["files"])
    assert leftovers(tmp_dir) == []


async def test_parse_multipart_leaves_files_to_the_caller(send: Send, app: Starlette, tmp_dir: Path) -> None:
    response = await send("/parse", files={"image": ("a.bin", b"abc")})

    assert response.status_code == 200
    (form,) = app.state.forms
    assert isinstance(form, ParsedForm)
    (upload,) = form.files_for("image")
    assert upload.path.parent == tmp_dir
    assert upload.path.read_bytes() == b"abc"
    form.cleanup()
    assert leftovers(tmp_dir) == []


async def test_receive_multipart_cleans_up_when_the_handler_fails(send: Send, tmp_dir: Path) -> None:
    response = await send("/upload?fail=1", files={"image": ("a.bin", b"abc")})

    assert response.status_code == 400
    assert leftovers(tmp_dir) == []


@pytest.mark.parametrize("limits", [{"max_file_bytes": KB}])
async def test_exact_limit_file_is_accepted(send: Send) -> None:
    response = await send(files={"image": ("a.bin", b"x" * KB)})

    assert response.status_code == 200
    assert response.json()["files"][0]["size"] == KB


@pytest.mark.parametrize("limits", [{"max_file_bytes": KB}])
@pytest.mark.parametrize("first", [b"", b"ok" * 100])
async def test_file_over_limit_is_refused_and_nothing_is_left(send: Send, tmp_dir: Path, first: bytes) -> None:
    files = [("image", ("a.bin", first)), ("image", ("b.bin", b"x" * (KB + 1)))]

    response = await send(files=files)

    assert response.status_code == 413
    assert response.json() == {
        "code": "file_too_large",
        "message": "The file is too large: the limit is 1 KB per file.",
        "field": "image",
        "details": {"limit": KB, "field": "image"},
    }
    assert leftovers(tmp_dir) == []


@pytest.mark.parametrize("limits", [{"max_file_bytes": 256 * KB}])
async def test_limit_is_enforced_while_reading(send: Send, tmp_dir: Path) -> None:
    data = body(part("image", b"x" * (4 * 1024 * KB), filename="big.bin"))
    pulled: list[int] = []

    response = await send(content=chunked(data, 64 * KB, pulled), headers=HEADERS)

    assert response.status_code == 413
    assert len(pulled) <= 6  # refused after ~256 KB of a 4 MB body
    assert leftovers(tmp_dir) == []


@pytest.mark.parametrize("limits", [{"max_file_bytes": KB, "max_files": 2}])
async def test_too_many_files(send: Send, tmp_dir: Path) -> None:
    files = [("image", (f"{n}.bin", b"x")) for n in range(3)]

    response = await send(files=files)

    assert response.status_code == 400
    assert response.json()["field"] == "image"
    assert response.json()["details"] == {"limit": 2}
    assert leftovers(tmp_dir) == []


@pytest.mark.parametrize("limits", [{"max_file_bytes": KB, "max_fields": 2}])
async def test_too_many_fields(send: Send) -> None:
    content = body(part("a", b"1"), part("b", b"2"), part("c", b"3"))

    response = await send(content=content, headers=HEADERS)

    assert response.status_code == 400
    assert response.json()["field"] == "c"


@pytest.mark.parametrize("limits", [{"max_file_bytes": KB, "max_field_bytes": 10}])
async def test_too_long_field(send: Send) -> None:
    accepted = await send(content=body(part("title", b"x" * 10)), headers=HEADERS)
    refused = await send(content=body(part("title", b"x" * 11)), headers=HEADERS)

    assert accepted.status_code == 200
    assert refused.status_code == 400
    assert refused.json()["field"] == "title"
    assert refused.json()["details"] == {"limit": 10}


async def test_field_value_must_be_utf8(send: Send) -> None:
    response = await send(content=body(part("title", b"caf\xe9")), headers=HEADERS)

    assert response.status_code == 400
    assert response.json()["field"] == "title"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"content-type": "application/json"},
        {"content-type": "application/x-www-form-urlencoded"},
        {"content-type": "multipart/form-data"},
        {"content-type": "multipart/form-data; boundary="},
        {"content-type": "multipart/mixed; boundary=" + BOUNDARY},
        {"content-type": "multipart/form-data; boundary=" + "b" * 300},
    ],
)
async def test_wrong_content_type_or_boundary(send: Send, headers: dict[str, str]) -> None:
    response = await send(content=body(part("a", b"1")), headers=headers)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"garbage that is not multipart",
        b"--wrong-boundary\r\n\r\nx\r\n--wrong-boundary--\r\n",
        f"--{BOUNDARY}\r\nno colon here\r\n\r\nx\r\n".encode() + closing(),
        part("a", b"1"),  # no closing boundary: truncated
        f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nx\r\n".encode() + closing(),  # no name
        f'--{BOUNDARY}\r\nContent-Disposition: attachment; name="a"\r\n\r\nx\r\n'.encode() + closing(),
        f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n".encode() + closing(),
        part("image", b"x" * 5000, filename="cut.bin")[:3000],
    ],
)
async def test_malformed_or_truncated_body(send: Send, tmp_dir: Path, content: bytes) -> None:
    response = await send(content=content, headers=HEADERS)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert leftovers(tmp_dir) == []


async def test_epilogue_after_closing_boundary_is_ignored(send: Send) -> None:
    response = await send(content=body(part("a", b"1")) + b"trailing words", headers=HEADERS)

    assert response.status_code == 200
    assert response.json()["fields"] == {"a": ["1"]}


async def test_empty_file_part(send: Send) -> None:
    response = await send(files={"image": ("empty.png", b"", "image/png")})

    (upload,) = response.json()["files"]
    assert (upload["size"], upload["sha256"], upload["disk_size"]) == (0, sha(b""), 0)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("фото кота.png", "фото кота.png"),
        ("猫 🐈.webp", "猫 🐈.webp"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\cat.jpg", "cat.jpg"),
        ("tab\there", "tabhere"),
        ("", None),
        ("  ", None),
    ],
)
async def test_filenames(send: Send, sent: str, kept: str | None) -> None:
    content = body(part("image", b"x", filename=sent))

    response = await send(content=content, headers=HEADERS)

    assert response.json()["files"][0]["filename"] == kept


async def test_filename_with_invalid_utf8_is_kept_readable(send: Send) -> None:
    content = body(
        b"--" + BOUNDARY.encode() + b'\r\nContent-Disposition: form-data; name="f"; filename="a\xff.png"\r\n\r\nx\r\n'
    )

    response = await send(content=content, headers=HEADERS)

    assert response.json()["files"][0]["filename"] == "a\ufffd.png"


async def test_part_without_filename_is_a_field(send: Send) -> None:
    content = body(part("image", b"not a file", content_type="image/png"), part("image", b"f", filename="f.png"))

    response = await send(content=content, headers=HEADERS)

    assert response.json()["fields"] == {"image": ["not a file"]}
    assert [f["filename"] for f in response.json()["files"]] == ["f.png"]


@pytest.mark.parametrize("limits", [{"max_file_bytes": KB, "max_files": 1, "max_fields": 1}])
async def test_declared_length_over_the_limits_is_refused_unread(send: Send) -> None:
    pulled: list[int] = []
    headers = {"content-type": CONTENT_TYPE, "content-length": str(10 * 1024 * KB)}

    response = await send(content=chunked(b"x" * 10 * 1024 * KB, 64 * KB, pulled), headers=headers)

    assert response.status_code == 413
    assert response.json()["details"] == {"limit": KB, "max_files": 1}
    assert pulled == []


@pytest.mark.parametrize("limits", [{"max_file_bytes": KB, "max_files": 1, "max_fields": 1}])
async def test_endless_preamble_is_cut_off(send: Send) -> None:
    pulled: list[int] = []

    response = await send(content=chunked(b"\r\n" * 1024 * KB, 64 * KB, pulled), headers=HEADERS)

    assert response.status_code == 413
    assert len(pulled) < 4


async def test_bad_content_length(send: Send) -> None:
    headers = {"content-type": CONTENT_TYPE, "content-length": "lots"}

    response = await send(content=chunked(body(part("a", b"1"))), headers=headers)

    assert response.status_code == 400
