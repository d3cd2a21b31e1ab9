"""Signed transform URLs: what a signature covers, expiry, key rotation, malformed input, and who must sign."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pinhole.errors import ExpiredSignature, InvalidSignature, MissingSignature, UnknownSigningKey
from pinhole.imaging.options import TransformOptions
from pinhole.security.principal import ANONYMOUS, Principal, Via
from pinhole.security.signing import (
    SigningMode,
    UrlSigner,
    derive_key,
    hkdf_sha256,
    signature_required,
)
from tests.security.clock import ManualClock

OLD_SECRET = "o" * 32
NEW_SECRET = "n" * 40
SMALL_WEBP = TransformOptions(width=200, format="webp")
GOOD_MAC = "A" * 43


def test_valid_signature_verifies(clock: ManualClock) -> None:
    signer = UrlSigner([("k1", OLD_SECRET)], clock=clock)
    params = signer.sign("img_1", SMALL_WEBP)
    assert params.keys() == {"sig"}
    assert params["sig"].startswith("k1.")
    assert signer.verify("img_1", SMALL_WEBP, sig=params["sig"]) is None  # never expires


def test_same_request_signs_the_same_and_another_differently() -> None:
    signer = UrlSigner([("k1", OLD_SECRET)])
    assert signer.sign("img_1", SMALL_WEBP) == signer.sign("img_1", TransformOptions(width=200, format="webp"))
    assert signer.sign("img_1", SMALL_WEBP) != signer.sign("img_2", SMALL_WEBP)


@pytest.mark.parametrize(
    ("image_id", "options", "exp"),
    [
        ("img_1", TransformOptions(width=201, format="webp"), None),
        ("img_1", TransformOptions(width=200, format="png"), None),
        ("img_1", TransformOptions(width=200, format="webp", enlarge=True), None),
        ("img_2", SMALL_WEBP, None),
        ("img_1", SMALL_WEBP, "1700003600"),
    ],
    ids=["width", "format", "enlarge", "image-id", "expiry-added"],
)
def test_tampered_request_is_refused(image_id: str, options: TransformOptions, exp: str | None) -> None:
    signer = UrlSigner([("k1", OLD_SECRET)])
    params = signer.sign("img_1", SMALL_WEBP)
    with pytest.raises(InvalidSignature) as caught:
        signer.verify(image_id, options, sig=params["sig"], exp=exp)
    assert (caught.value.status, caught.value.code) == (403, "invalid_signature")


@pytest.mark.parametrize("exp", [None, "1700007200"], ids=["expiry-stripped", "expiry-extended"])
def test_expiry_is_covered_by_the_signature(clock: ManualClock, exp: str | None) -> None:
    signer = UrlSigner([("k1", OLD_SECRET)], clock=clock)
    params = signer.sign("img_1", SMALL_WEBP, expires_at=1_700_003_600)
    with pytest.raises(InvalidSignature) as caught:
        signer.verify("img_1", SMALL_WEBP, sig=params["sig"], exp=exp)
    assert type(caught.value) is InvalidSignature


def test_signature_expires(clock: ManualClock) -> None:
    signer = UrlSigner([("k1", OLD_SECRET)], clock=clock)
    params = signer.sign("img_1", SMALL_WEBP, expires_at=int(clock.now) + 60)
    assert signer.verify("img_1", SMALL_WEBP, **params) == 60
    clock.advance(59.9)
    assert signer.verify("img_1", SMALL_WEBP, **params) == pytest.approx(0.1)
    clock.advance(0.1)
    with pytest.raises(ExpiredSignature) as caught:
        signer.verify("img_1", SMALL_WEBP, **params)
    assert (caught.value.status, caught.value.code) == (403, "expired_signature")


def test_rotated_keys_verify_old_signatures_and_sign_with_the_new_one() -> None:
    before = UrlSigner([("k1", OLD_SECRET)])
    during = UrlSigner([("k2", NEW_SECRET), ("k1", OLD_SECRET)])
    after = UrlSigner([("k2", NEW_SECRET)])
    old = before.sign("img_1", SMALL_WEBP)
    new = during.sign("img_1", SMALL_WEBP)
    assert new["sig"].startswith("k2.")
    during.verify("img_1", SMALL_WEBP, **old)
    after.verify("img_1", SMALL_WEBP, **new)
    with pytest.raises(UnknownSigningKey):
        after.verify("img_1", SMALL_WEBP, **old)


def test_same_key_id_with_another_secret_is_refused() -> None:
    params = UrlSigner([("k1", OLD_SECRET)]).sign("img_1", SMALL_WEBP)
    with pytest.raises(InvalidSignature):
        UrlSigner([("k1", NEW_SECRET)]).verify("img_1", SMALL_WEBP, **params)


@pytest.mark.parametrize("sig", [None, ""])
def test_missing_signature(sig: str | None) -> None:
    with pytest.raises(MissingSignature) as caught:
        UrlSigner([("k1", OLD_SECRET)]).verify("img_1", SMALL_WEBP, sig=sig)
    assert caught.value.code == "missing_signature"


@pytest.mark.parametrize(
    "sig",
    [
        "k1",
        "k1.",
        f".{GOOD_MAC}",
        "k1.short",
        f"k1.{GOOD_MAC}A",
        f"k1.{'+' * 43}",
        f"k1.{GOOD_MAC[:-1]}=",
        f"k 1.{GOOD_MAC}",
        f"k1.{GOOD_MAC}.extra",
        f"{'k' * 33}.{GOOD_MAC}",
        f"k1.{chr(0xFF21) * 43}",  # full-width A
    ],
)
def test_malformed_signature(sig: str) -> None:
    with pytest.raises(InvalidSignature) as caught:
        UrlSigner([("k1", OLD_SECRET)]).verify("img_1", SMALL_WEBP, sig=sig)
    assert type(caught.value) is InvalidSignature


@pytest.mark.parametrize("exp", ["", "soon", "-5", "1e9", "17000000000000", " 1700000000"])
def test_malformed_expiry(exp: str) -> None:
    signer = UrlSigner([("k1", OLD_SECRET)])
    with pytest.raises(InvalidSignature) as caught:
        signer.verify("img_1", SMALL_WEBP, sig=signer.sign("img_1", SMALL_WEBP)["sig"], exp=exp)
    assert caught.value.field == "exp"


@pytest.mark.parametrize("expires_at", [-1, 10**12])
def test_signing_refuses_an_expiry_it_could_not_verify(expires_at: int) -> None:
    with pytest.raises(ValueError, match="expires_at"):
        UrlSigner([("k1", OLD_SECRET)]).sign("img_1", SMALL_WEBP, expires_at=expires_at)


def test_unknown_key_id() -> None:
    with pytest.raises(UnknownSigningKey) as caught:
        UrlSigner([("k1", OLD_SECRET)]).verify("img_1", SMALL_WEBP, sig=f"k9.{GOOD_MAC}")
    assert (caught.value.status, caught.value.code) == (403, "unknown_signing_key")


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ([], "at least one key"),
        ([("k1", "short")], "at least 32 bytes"),
        ([("k.1", OLD_SECRET)], "key id"),
        ([("", OLD_SECRET)], "key id"),
        ([("k1", OLD_SECRET), ("k1", NEW_SECRET)], "unique"),
    ],
)
def test_bad_key_configuration_is_refused(keys: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        UrlSigner(keys)


@pytest.mark.parametrize(
    ("ikm", "salt", "info", "length", "okm"),
    [
        (  # RFC 5869 test case 1
            bytes([0x0B] * 22),
            bytes(range(13)),
            bytes(range(0xF0, 0xFA)),
            42,
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
        ),
        (  # RFC 5869 test case 3: no salt, no info
            bytes([0x0B] * 22),
            b"",
            b"",
            42,
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
        ),
    ],
)
def test_hkdf_matches_rfc_5869(ikm: bytes, salt: bytes, info: bytes, length: int, okm: str) -> None:
    assert hkdf_sha256(ikm, info=info, salt=salt, length=length).hex() == okm


def test_derived_keys_are_per_purpose_and_never_the_secret() -> None:
    keys = {derive_key(OLD_SECRET, purpose) for purpose in ("url-signature/v1", "session/v1")}
    assert len(keys) == 2
    assert OLD_SECRET.encode() not in keys
    assert all(len(key) == 32 for key in keys)


@dataclass(frozen=True)
class Image:
    client_id: str = "tenant-a"
    owner_id: str | None = "alice"
    is_private: bool = False


OWNER = Principal(client_id="tenant-a", user_id="alice", via=Via.CLIENT_KEY)
COLLEAGUE = Principal(client_id="tenant-a", user_id="bob", via=Via.CLIENT_KEY)
STRANGER = Principal(client_id="tenant-b", user_id="alice", via=Via.CLIENT_KEY)
CALLERS = {"anonymous": ANONYMOUS, "owner": OWNER, "colleague": COLLEAGUE, "stranger": STRANGER}


@pytest.mark.parametrize(
    ("mode", "needs"),
    [
        (SigningMode.OFF, set()),
        (SigningMode.ANONYMOUS, {"anonymous"}),
        (SigningMode.ALL, {"anonymous", "colleague", "stranger"}),
    ],
)
def test_who_must_sign_a_transform(mode: SigningMode, needs: set[str]) -> None:
    required = {
        name
        for name, principal in CALLERS.items()
        if signature_required(mode, principal=principal, image=Image(), options=SMALL_WEBP)
    }
    assert required == needs


@pytest.mark.parametrize("mode", list(SigningMode))
@pytest.mark.parametrize("caller", list(CALLERS))
def test_identity_requests_and_token_holders_never_sign(mode: SigningMode, caller: str) -> None:
    principal = CALLERS[caller]
    identity = TransformOptions()
    assert not signature_required(mode, principal=principal, image=Image(), options=identity)
    assert not signature_required(mode, principal=principal, image=Image(), options=SMALL_WEBP, token_grants=True)


def test_images_without_an_owner_belong_to_the_whole_tenant() -> None:
    image = Image(owner_id=None)
    assert not signature_required(SigningMode.ALL, principal=COLLEAGUE, image=image, options=SMALL_WEBP)
    assert signature_required(SigningMode.ALL, principal=STRANGER, image=image, options=SMALL_WEBP)


@pytest.mark.parametrize("text", ["off", "anonymous", "all"])
def test_signing_modes_parse_from_settings_strings(text: str) -> None:
    assert SigningMode(text).value == text
