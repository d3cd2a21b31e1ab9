from __future__ import annotations

import resource
import time

import pytest

from pinhole.errors import ImageTooLarge, TooManyFrames, UnsupportedImageFormat
from pinhole.imaging.formats import readable_formats
from pinhole.imaging.inspect import ImageLimits, inspect_image
from tests.imaging.conftest import WriteFile
from tests.support.images import (
    make_avif,
    make_gif,
    make_gif_header,
    make_jpeg,
    make_png,
    make_png_header,
    make_webp,
)


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (make_png(40, 30), "photo.jpg", "png"),
        (make_jpeg(40, 30), "photo.png", "jpeg"),
        (make_gif(40, 30), "photo.webp", "gif"),
        (make_webp(40, 30), "photo", "webp"),
        (make_avif(40, 30), "photo.heic", "avif"),
    ],
)
def test_format_comes_from_the_bytes_not_the_name(
    upload: WriteFile, limits: ImageLimits, data: bytes, name: str, expected: str
) -> None:
    inspected = inspect_image(upload(data, name), limits=limits)
    assert (inspected.format.name, inspected.width, inspected.height) == (expected, 40, 30)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"", "empty.jpg"),
        (b"just some text\n" * 20, "notes.png"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "icon.gif"),
        (bytes(range(256)) * 8, "noise.webp"),
        (b"1,2,3\n4,5,6\n", "table.csv"),
        (b"2 2\n1 2\n3 4\n", "matrix.mat"),
        (b"\xff\xd8", "two-bytes.jpg"),
    ],
)
def test_non_images_are_unsupported(upload: WriteFile, limits: ImageLimits, data: bytes, name: str) -> None:
    with pytest.raises(UnsupportedImageFormat):
        inspect_image(upload(data, name), limits=limits)


def test_formats_outside_accepted_are_refused_with_the_accepted_list(upload: WriteFile, limits: ImageLimits) -> None:
    path = upload(make_gif(20, 20), "a.gif")
    with pytest.raises(UnsupportedImageFormat) as caught:
        inspect_image(path, limits=limits, accepted=frozenset({"png", "jpeg"}))
    assert "jpeg, png" in caught.value.message
    assert caught.value.details["accepted"] == ["jpeg", "png"]


def test_accepted_may_use_aliases(upload: WriteFile, limits: ImageLimits) -> None:
    path = upload(make_jpeg(20, 20), "a.jpg")
    assert inspect_image(path, limits=limits, accepted=frozenset({"jpg"})).format.name == "jpeg"


@pytest.mark.skipif("heic" in readable_formats(), reason="this libheif can decode HEVC")
def test_heic_is_unsupported_where_it_cannot_be_decoded(upload: WriteFile, limits: ImageLimits) -> None:
    fake = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    with pytest.raises(UnsupportedImageFormat):
        inspect_image(upload(fake, "IMG_0001.HEIC"), limits=limits)


def test_avif_is_refused_when_only_heic_is_accepted(upload: WriteFile, limits: ImageLimits) -> None:
    """libvips reads both with one HEIF loader; an AVIF still is not a HEIC."""
    with pytest.raises(UnsupportedImageFormat):
        inspect_image(upload(make_avif(16, 16), "a.avif"), limits=limits, accepted=frozenset({"heic"}))


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize(
    "data",
    [make_png_header(100_000, 100_000), make_gif_header(60_000, 60_000)],
    ids=["png-100000x100000", "gif-60000x60000"],
)
def test_pixel_limit_is_checked_on_the_header_before_decoding(
    upload: WriteFile, limits: ImageLimits, data: bytes
) -> None:
    """Decoding would need gigabytes (and fail as corrupt: the files hold one row); refusal is instant."""
    path = upload(data, "huge.png")
    before, started = _max_rss_mib(), time.perf_counter()
    with pytest.raises(ImageTooLarge):
        inspect_image(path, limits=limits)
    assert time.perf_counter() - started < 0.5
    assert _max_rss_mib() - before < 64


def test_pixel_limit_counts_every_frame(upload: WriteFile) -> None:
    path = upload(make_gif(20, 10, frames=5), "anim.gif")
    assert inspect_image(path, limits=ImageLimits(max_pixels=1000, max_frames=10)).frames == 5
    with pytest.raises(ImageTooLarge):
        inspect_image(path, limits=ImageLimits(max_pixels=999, max_frames=10))


@pytest.mark.parametrize("data", [make_gif(8, 8, frames=12), make_webp(8, 8, frames=12)], ids=["gif", "webp"])
def test_frame_limit(upload: WriteFile, data: bytes) -> None:
    path = upload(data, "anim")
    with pytest.raises(TooManyFrames) as caught:
        inspect_image(path, limits=ImageLimits(max_pixels=1_000_000, max_frames=10))
    assert caught.value.details == {"frames": 12, "max_frames": 10}


@pytest.mark.parametrize(
    ("data", "alpha", "orientation", "metadata"),
    [
        (make_jpeg(30, 20, orientation=6), False, 6, True),
        (make_jpeg(30, 20, exif=False), False, 1, False),
        (make_png(20, 30, alpha=True), True, 1, False),
        (make_png(20, 30, exif=True), False, 1, True),
        (make_webp(20, 30, frames=2, alpha=True), True, 1, False),
    ],
)
def test_header_facts(
    upload: WriteFile, limits: ImageLimits, data: bytes, alpha: bool, orientation: int, metadata: bool
) -> None:
    inspected = inspect_image(upload(data, "x"), limits=limits)
    assert (inspected.has_alpha, inspected.orientation, inspected.has_metadata) == (alpha, orientation, metadata)


def test_display_size_swaps_for_quarter_turns(upload: WriteFile, limits: ImageLimits) -> None:
    inspected = inspect_image(upload(make_jpeg(30, 20, orientation=8), "x.jpg"), limits=limits)
    assert (inspected.width, inspected.height, inspected.display_size) == (20, 30, (30, 20))
