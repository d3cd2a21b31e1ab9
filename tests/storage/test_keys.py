"""Blob keys are derived from content hashes and canonical options, and validated by every store."""

from __future__ import annotations

import hashlib

import pytest

from pinhole.storage import original_key, validate_key, variant_key, variants_prefix
from pinhole.storage.keys import validate_prefix

DIGEST = hashlib.sha256(b"image").hexdigest()


def test_original_key_fans_out_by_hash() -> None:
    assert original_key(DIGEST) == f"originals/{DIGEST[:2]}/{DIGEST[2:4]}/{DIGEST}"


def test_variant_key_is_under_the_variants_prefix() -> None:
    key = variant_key(DIGEST, "w=300&h=200&fit=cover", "webp")

    options_digest = hashlib.sha256(b"w=300&h=200&fit=cover").hexdigest()[:16]
    assert key == f"variants/{DIGEST[:2]}/{DIGEST[2:4]}/{DIGEST}/{options_digest}.webp"
    assert key.startswith(variants_prefix(DIGEST))


def test_variant_key_differs_by_options_and_extension() -> None:
    keys = {
        variant_key(DIGEST, "w=1", "webp"),
        variant_key(DIGEST, "w=2", "webp"),
        variant_key(DIGEST, "w=1", "png"),
    }

    assert len(keys) == 3


@pytest.mark.parametrize("digest", ["", "abc", DIGEST.upper(), DIGEST[:-1] + "g", "../" + DIGEST[3:]])
def test_refuses_what_is_not_a_sha256_digest(digest: str) -> None:
    with pytest.raises(ValueError, match="sha256"):
        original_key(digest)


@pytest.mark.parametrize("extension", ["", "WEBP", "we/bp", ".png", "toolongextension"])
def test_refuses_bad_extensions(extension: str) -> None:
    with pytest.raises(ValueError, match="extension"):
        variant_key(DIGEST, "w=1", extension)


@pytest.mark.parametrize("key", ["a", "a/b", "originals/ab/cd/x.y-z_0", "..a/b..", "x" * 512])
def test_accepts_valid_keys(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    "key", ["", "/a", "a/", "a//b", "..", "a/../b", ".", "a/./b", "A", "a b", "a\\b", "a\n", "ü", "x" * 513]
)
def test_refuses_invalid_keys(key: str) -> None:
    with pytest.raises(ValueError, match="invalid blob key"):
        validate_key(key)


@pytest.mark.parametrize("prefix", ["", "o", "originals/", "originals/a", "variants/ab/cd/"])
def test_accepts_valid_prefixes(prefix: str) -> None:
    assert validate_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", ["/", "/a", "../", "a/../", "a//", "A/"])
def test_refuses_invalid_prefixes(prefix: str) -> None:
    with pytest.raises(ValueError, match="invalid blob key prefix"):
        validate_prefix(prefix)
