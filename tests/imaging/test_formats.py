from __future__ import annotations

import pytest

from pinhole.imaging.formats import (
    FORMATS,
    available_formats,
    format_for_extension,
    format_for_loader,
    format_for_mime,
    format_named,
)
from pinhole.imaging.signatures import sniff_format
from tests.support.images import make_avif, make_gif, make_jpeg, make_png, make_webp


@pytest.mark.parametrize(
    ("name", "expected"),
    [("jpeg", "jpeg"), ("jpg", "jpeg"), ("JPG", "jpeg"), (" png ", "png"), ("heif", "heic"), ("avif", "avif")],
)
def test_format_named_knows_aliases(name: str, expected: str) -> None:
    found = format_named(name)
    assert found is not None
    assert found.name == expected


@pytest.mark.parametrize("name", ["svg", "pdf", "", "jpegg"])
def test_format_named_refuses_unknown_names(name: str) -> None:
    assert format_named(name) is None


@pytest.mark.parametrize(
    ("extension", "expected"),
    [(".jpg", "jpeg"), ("JPEG", "jpeg"), ("jfif", "jpeg"), ("png", "png"), (".heif", "heic"), ("webp", "webp")],
)
def test_format_for_extension(extension: str, expected: str) -> None:
    found = format_for_extension(extension)
    assert found is not None
    assert found.name == expected


@pytest.mark.parametrize(
    ("loader", "compression", "expected"),
    [
        ("jpegload", None, "jpeg"),
        ("jpegload_source", None, "jpeg"),
        ("pngload_buffer", None, "png"),
        ("gifload", None, "gif"),
        ("webpload_source", None, "webp"),
        ("heifload", "av1", "avif"),
        ("heifload_buffer", "hevc", "heic"),
    ],
)
def test_format_for_loader(loader: str, compression: str | None, expected: str) -> None:
    found = format_for_loader(loader, heif_compression=compression)
    assert found is not None
    assert found.name == expected


@pytest.mark.parametrize("loader", ["svgload_buffer", "csvload", "matrixload_source", "magickload"])
def test_format_for_loader_refuses_other_loaders(loader: str) -> None:
    assert format_for_loader(loader) is None


def test_format_for_mime() -> None:
    found = format_for_mime("image/webp; charset=binary")
    assert found is not None
    assert found.name == "webp"


def test_registry_names_are_unique_and_mime_types_are_images() -> None:
    assert len({fmt.name for fmt in FORMATS}) == len(FORMATS)
    assert all(fmt.mime.startswith("image/") for fmt in FORMATS)


def test_available_formats_reports_what_libvips_can_do() -> None:
    support = {fmt.name: (fmt.readable, fmt.writable) for fmt in available_formats()}
    assert {name: support[name] for name in ("jpeg", "png", "webp", "gif", "avif")} == dict.fromkeys(
        ("jpeg", "png", "webp", "gif", "avif"), (True, True)
    )
    assert support["heic"][1] is False  # never written, whatever libheif can do


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (make_jpeg(8, 8, exif=False), "jpeg"),
        (make_png(8, 8), "png"),
        (make_gif(8, 8), "gif"),
        (make_webp(8, 8), "webp"),
        (make_avif(8, 8), "avif"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heic"),
        (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1miafavif", "avif"),
    ],
)
def test_sniff_format_reads_the_magic_bytes(data: bytes, expected: str) -> None:
    found = sniff_format(data[:64])
    assert found is not None
    assert found.name == expected


@pytest.mark.parametrize(
    "data",
    [b"", b"hello, world", b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"BM\x00\x00", b"RIFF\0\0\0\0WAVE"],
)
def test_sniff_format_refuses_everything_else(data: bytes) -> None:
    assert sniff_format(data) is None
