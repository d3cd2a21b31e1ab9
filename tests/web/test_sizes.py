"""Byte sizes typed on the admin pages ("5 GB") and shown back."""

from __future__ import annotations

import pytest

from pinhole.web.sizes import parse_byte_size, show_byte_size


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("5 GB", 5 * 1024**3),
        ("5gb", 5 * 1024**3),
        ("500 MB", 500 * 1024**2),
        ("1.5 GB", 3 * 1024**3 // 2),
        ("1000000", 1000000),
        ("0", 0),
        ("12 KB", 12 * 1024),
        ("2 TB", 2 * 1024**4),
    ],
)
def test_sizes_people_type(text: str, size: int) -> None:
    assert parse_byte_size(text) == size


@pytest.mark.parametrize("text", ["", "-1", "5 parsecs", "GB", "1e9", "5 GB extra", "99999999999 TB"])
def test_what_is_not_a_size(text: str) -> None:
    assert parse_byte_size(text) is None


@pytest.mark.parametrize(("size", "text"), [(5 * 1024**3, "5 GB"), (1536 * 1024, "1536 KB"), (1000000, "1000000")])
def test_sizes_shown_back(size: int, text: str) -> None:
    assert show_byte_size(size) == text
    assert parse_byte_size(text) == size
