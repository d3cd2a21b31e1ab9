"""Lossless JPEG metadata stripping: metadata gone, ICC kept, pixels identical, comments too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pinhole.errors import CorruptImage
from pinhole.imaging.containers import Malformed
from pinhole.imaging.ingest import prepare_original
from pinhole.imaging.inspect import ImageLimits
from pinhole.imaging.jpeg import strip_jpeg_metadata
from tests.support.images import make_jpeg, metadata_fields, open_image, truncated

LIMITS = ImageLimits(max_pixels=50_000_000, max_frames=100)


def _pixels(data: bytes) -> np.ndarray:
    image = open_image(data)
    return np.asarray(image).reshape(image.height, image.width, image.bands)


def _with_comment(data: bytes, text: bytes) -> bytes:
    segment = b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text
    return data[:2] + segment + data[2:]


def test_strip_keeps_pixels_and_profile_and_drops_the_rest() -> None:
    original = _with_comment(make_jpeg(120, 80, exif=True, icc=True), b"secret location")
    stripped = strip_jpeg_metadata(original)
    assert metadata_fields(original) >= {"exif-data", "xmp-data", "icc-profile-data"}
    assert metadata_fields(stripped) == {"icc-profile-data"}
    assert b"secret location" not in stripped
    assert np.array_equal(_pixels(stripped), _pixels(original))
    assert len(stripped) < len(original)


def test_ingest_strips_an_upright_jpeg_without_reencoding(tmp_path: Path) -> None:
    source = tmp_path / "in.jpg"
    original = _with_comment(make_jpeg(64, 48, exif=True), b"GPS 51.5,-0.1")
    source.write_bytes(original)
    prepared = prepare_original(source, work_dir=tmp_path, limits=LIMITS, strip_metadata=True)
    stored = prepared.path.read_bytes()
    assert prepared.path != source
    assert (prepared.width, prepared.height, prepared.size) == (64, 48, len(stored))
    assert b"GPS 51.5" not in stored
    assert "exif-data" not in metadata_fields(stored)
    assert np.array_equal(_pixels(stored), _pixels(original))


@pytest.mark.parametrize("data", [b"\xff\xd8\xff\xe1\x00", b"not a jpeg", b"\xff\xd8\x00\x00\x00\x00"])
def test_broken_structure_is_refused(data: bytes) -> None:
    with pytest.raises(Malformed):
        strip_jpeg_metadata(data)


def test_truncated_jpeg_is_still_refused_by_ingest(tmp_path: Path) -> None:
    source = tmp_path / "cut.jpg"
    source.write_bytes(truncated(make_jpeg(64, 48, exif=True)))
    with pytest.raises(CorruptImage):
        prepare_original(source, work_dir=tmp_path, limits=LIMITS, strip_metadata=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.jpg"]
