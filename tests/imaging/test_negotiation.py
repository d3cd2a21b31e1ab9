"""Format negotiation as a pure function, against the Accept headers browsers send today."""

from __future__ import annotations

import pytest

from pinhole.imaging.negotiation import WEB_SAFE, ImageFacts, Negotiation, accepted, negotiate

CHROME = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
SAFARI = (
    "image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,"
    "image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5"
)
FIREFOX = "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5"
SAFARI_15 = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"
CURL = "*/*"

PHOTO = ImageFacts(format="jpeg", animated=False, pixels=800 * 600)
POLICY = Negotiation()


@pytest.mark.parametrize(
    ("accept", "expected"),
    [(CHROME, "avif"), (SAFARI, "avif"), (FIREFOX, "avif"), (SAFARI_15, "webp"), (CURL, "jpeg"), (None, "jpeg")],
)
def test_browsers_get_the_best_format_they_accept(accept: str | None, expected: str) -> None:
    assert negotiate(accept, facts=PHOTO, policy=POLICY) == expected


def test_wildcards_promise_nothing() -> None:
    assert accepted("image/*,*/*") == frozenset()
    assert accepted("image/avif;q=0, image/webp;q=0.5") == {"webp"}


@pytest.mark.parametrize(
    ("facts", "accept", "expected"),
    [
        (ImageFacts(format="gif", animated=True, pixels=10_000), CHROME, "webp"),  # AVIF here is stills only
        (ImageFacts(format="gif", animated=True, pixels=10_000), CURL, "gif"),
        (ImageFacts(format="webp", animated=True, pixels=10_000), CURL, "webp"),  # browsers show WebP
        (ImageFacts(format="jpeg", animated=False, pixels=32 * 32), CHROME, "webp"),  # tiny: AVIF is not worth it
        (ImageFacts(format="heic", animated=False, pixels=10_000), CURL, WEB_SAFE),
        (ImageFacts(format="webp", animated=False, pixels=10_000), CURL, "webp"),
        (ImageFacts(format="avif", animated=False, pixels=10_000), SAFARI_15, "webp"),
        (ImageFacts(format="png", animated=False, pixels=10_000), CURL, "png"),
    ],
)
def test_image_facts_narrow_the_choice(facts: ImageFacts, accept: str, expected: str) -> None:
    assert negotiate(accept, facts=facts, policy=POLICY) == expected


def test_policy_limits_the_candidates() -> None:
    assert negotiate(CHROME, facts=PHOTO, policy=Negotiation(formats=("webp",))) == "webp"
    assert negotiate(CHROME, facts=PHOTO, policy=Negotiation(enabled=False)) == "jpeg"
