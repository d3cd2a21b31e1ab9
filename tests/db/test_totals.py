"""Listing totals are reused for a while, and counted again at once after a write that may change them."""

from __future__ import annotations

import pytest

from pinhole.db.totals import changes_listings


@pytest.mark.parametrize(
    ("statement", "changes"),
    [
        ("INSERT INTO images (id, client_id) VALUES (?, ?)", True),
        ('DELETE FROM "images" WHERE images.id = ?', True),
        ("INSERT INTO image_tags (image_id, tag) VALUES (?, ?)", True),
        ("DELETE FROM album_images WHERE album_images.album_id = ?", True),
        ("UPDATE images SET is_private=?, updated_at=? WHERE images.id = ?", True),
        ("UPDATE images SET description=? WHERE images.id = ?", True),
        ("UPDATE images SET view_count=(images.view_count + ?) WHERE images.id = ?", False),
        ("UPDATE images SET view_count=?, updated_at=? WHERE images.id = ?", False),
        ("INSERT INTO variants (content_hash, canonical) VALUES (?, ?)", False),
        ("UPDATE client_counters SET images = images + 1", False),
        ("SELECT count(*) FROM images", False),
    ],
)
def test_writes_that_may_change_a_listing(statement: str, changes: bool) -> None:
    assert changes_listings(statement) is changes
