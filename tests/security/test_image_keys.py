"""Per-image keys: stable per image and secret, different across images and secrets, any base64 spelling."""

from __future__ import annotations

import base64

import pytest

from pinhole.services.image_keys import image_key, image_key_opens

SECRET = "s" * 48
IMAGE = "7d3f9a52-3c1e-4b8f-9a0e-2f6b1c5d8e41"


def test_a_key_is_stable_and_unpadded_base64url() -> None:
    key = image_key(secret=SECRET, image_id=IMAGE)
    assert key == image_key(secret=SECRET, image_id=IMAGE)
    assert len(base64.urlsafe_b64decode(key + "=")) == 32
    assert "=" not in key
    assert "+" not in key
    assert "/" not in key


def test_keys_differ_per_image_and_per_secret() -> None:
    key = image_key(secret=SECRET, image_id=IMAGE)
    assert key != image_key(secret=SECRET, image_id=IMAGE.replace("7", "8"))
    assert key != image_key(secret="t" * 48, image_id=IMAGE)


def test_any_base64_spelling_of_the_key_opens() -> None:
    key = image_key(secret=SECRET, image_id=IMAGE)
    raw = base64.urlsafe_b64decode(key + "=")
    for spelling in (key, key + "=", base64.b64encode(raw).decode(), base64.b64encode(raw).decode().replace("+", " ")):
        assert image_key_opens(secret=SECRET, image_id=IMAGE, given=spelling), spelling


@pytest.mark.parametrize("given", [None, "", "not base64 !", "QUJD", "x" * 200])
def test_anything_else_does_not_open(given: str | None) -> None:
    assert not image_key_opens(secret=SECRET, image_id=IMAGE, given=given)


def test_the_key_of_one_image_does_not_open_another() -> None:
    other = image_key(secret=SECRET, image_id=IMAGE.replace("7", "8"))
    assert not image_key_opens(secret=SECRET, image_id=IMAGE, given=other)
