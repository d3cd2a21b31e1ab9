"""A render reads an original from its file (in blocks, imaging/sources.py) exactly as from its bytes."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import pyvips

from pinhole.imaging import sources
from pinhole.imaging.formats import Format, format_named
from pinhole.imaging.options import OutputLimits, make_transform
from pinhole.imaging.pipeline import make_intermediate, render
from tests.support import pillow_images as fixtures
from tests.support.images import make_cmyk_jpeg, make_gif, make_jpeg, make_png, make_webp

# name: (maker, stored format, output format): the decoders pinhole has (libvips, Pillow) and the file shapes
# that take other paths in `render` (orientation, alpha, frames, CMYK, an AVIF sequence, trailing data).
CASES: dict[str, tuple[Callable[[], bytes], str, str | None]] = {
    "jpeg-rotated": (lambda: make_jpeg(640, 480, orientation=6, exif=True), "jpeg", None),
    "jpeg-cmyk": (lambda: make_cmyk_jpeg(320, 240, profile=True), "jpeg", None),
    "png-alpha": (lambda: make_png(320, 240, alpha=True), "png", None),
    "png-16bit": (lambda: make_png(320, 240, sixteen_bit=True), "png", "jpeg"),
    "webp": (lambda: make_webp(320, 240), "webp", None),
    "gif-animated": (lambda: make_gif(120, 90, frames=3), "gif", None),
    "heic-10bit": (lambda: fixtures.make_heic(320, 240, ten_bit=True), "heic", "jpeg"),
    "jxl": (lambda: fixtures.make_jxl(320, 240), "jxl", "jpeg"),
    "tiff-pages": (lambda: fixtures.make_tiff(320, 240, kind="pages"), "tiff", "jpeg"),
    "motion-photo": (lambda: fixtures.make_motion_photo(320, 240), "jpeg", None),
    "avif-animated": (lambda: fixtures.make_animated_avif(96, 64), "avif", "webp"),
}


def _format(name: str) -> Format:
    found = format_named(name)
    assert found is not None
    return found


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_file_renders_exactly_as_its_bytes(name: str, tmp_path: Path, output_limits: OutputLimits) -> None:
    maker, stored, output = CASES[name]
    data = maker()
    path = tmp_path / "original"
    path.write_bytes(data)
    options = make_transform(width=100, format=output, limits=output_limits)
    from_bytes = render(data, options=options, source_format=_format(stored), limits=output_limits)
    from_file = render(path, options=options, source_format=_format(stored), limits=output_limits)
    shape = (from_file.width, from_file.height, from_file.frames, from_file.format)
    assert shape == (from_bytes.width, from_bytes.height, from_bytes.frames, from_bytes.format)
    assert from_file.data == from_bytes.data


def test_an_intermediate_made_from_a_file_is_the_one_made_from_its_bytes(tmp_path: Path) -> None:
    data = make_jpeg(3200, 2400, orientation=6, exif=True)
    path = tmp_path / "original"
    path.write_bytes(data)
    from_bytes = make_intermediate(data, source_format=_format("jpeg"))
    assert from_bytes is not None
    assert make_intermediate(path, source_format=_format("jpeg")) == from_bytes


def test_libvips_detection_names_the_loader_for_each_kind_of_source(tmp_path: Path) -> None:
    data = make_jpeg(64, 48)
    path = tmp_path / "original"
    path.write_bytes(data)
    assert sources.detected_loader(data) == "VipsForeignLoadJpegBuffer"
    with sources.reading():
        assert sources.detected_loader(path) == "VipsForeignLoadJpegSource"
    assert sources.loader_operation("jpegload", data) == "jpegload_buffer"
    assert sources.loader_operation("jpegload", path) == "jpegload_source"
    assert sources.head(path) == data[: sources.HEAD_BYTES]


def _open_descriptors(path: Path) -> int:
    return sum(1 for fd in os.listdir("/proc/self/fd") if os.path.realpath(f"/proc/self/fd/{fd}") == str(path))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files through /proc")
def test_a_file_is_read_in_blocks_and_closed_with_its_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """libvips asks for the file a block at a time (never all of it at once), and the file is closed once the
    source is let go of (no descriptor left open per render)."""
    data = make_jpeg(1600, 1200)
    path = tmp_path / "original"
    path.write_bytes(data)
    asked: list[int] = []
    on_read = pyvips.SourceCustom.on_read

    def recording(self: pyvips.SourceCustom, handler: Callable[[int], bytes]) -> None:
        def reading(size: int) -> bytes:
            asked.append(size)
            return handler(size)

        on_read(self, reading)

    monkeypatch.setattr(pyvips.SourceCustom, "on_read", recording)
    with sources.reading():
        stream = sources.vips_source(path)
        assert _open_descriptors(path) == 1
        image = pyvips.Image.new_from_source(stream, "", access="sequential")
        assert image.avg() > 0  # every pixel decoded
    assert asked
    assert max(asked) < len(data)
    assert _open_descriptors(path) == 0
    with pytest.raises(RuntimeError):
        sources.vips_source(path)  # outside a render's span: nothing would keep it


@pytest.mark.parametrize("name", ["truncated", "polyglot"])
def test_a_hostile_file_is_refused_as_its_bytes_are(name: str, tmp_path: Path, output_limits: OutputLimits) -> None:
    """A cut-off upload and a JPEG with a ZIP appended behave the same read in place as read into bytes."""
    from pinhole.errors import CorruptImage
    from tests.support.images import polyglot, truncated

    data = truncated(make_jpeg(800, 600), keep=0.5) if name == "truncated" else polyglot(make_jpeg(800, 600))
    path = tmp_path / "original"
    path.write_bytes(data)
    options = make_transform(width=100, limits=output_limits)
    outcomes = []
    for source in (data, path):
        try:
            outcomes.append(render(source, options=options, source_format=_format("jpeg")).data)
        except CorruptImage as error:
            outcomes.append(type(error).__name__.encode())
    assert outcomes[0] == outcomes[1]
