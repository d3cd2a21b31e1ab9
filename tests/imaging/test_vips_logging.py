"""libvips' own messages: warnings and errors reach the log, its info chatter (a dozen lines per render) does not
(pinhole.imaging.vips)."""

from __future__ import annotations

import logging

import pytest
import pyvips

from pinhole.imaging.vips import configure_libvips


def _jpeg(width: int = 64, height: int = 48) -> bytes:
    image = pyvips.Image.black(width, height, bands=3).copy(interpretation="srgb") + 128
    data: bytes = image.cast("uchar").jpegsave_buffer(Q=90)
    return data


def _vips_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "pyvips"]


def test_info_messages_stay_out_of_the_log(caplog: pytest.LogCaptureFixture) -> None:
    configure_libvips()
    with caplog.at_level(logging.INFO):  # the server's level; the pyvips logger keeps its own
        pyvips.Image.thumbnail_buffer(_jpeg(), 16).jpegsave_buffer(Q=80)
    assert _vips_records(caplog) == []


def test_warnings_still_reach_python_logging(caplog: pytest.LogCaptureFixture) -> None:
    configure_libvips()
    truncated = _jpeg(640, 480)[:-400]  # the decoder warns about the premature end, and goes on (fail=False)
    with caplog.at_level(logging.INFO):
        pyvips.Image.new_from_buffer(truncated, "", fail=False).avg()
    records = _vips_records(caplog)
    assert records, "libvips' warning about the truncated file was lost"
    assert all(record.levelno >= logging.WARNING for record in records)
