"""Short image ids (`img_` + 16 hex digits of the UUID) and finding an image by one with a primary-key range."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from pinhole.db.models import Image
from pinhole.runtime import Runtime
from pinhole.services.short_ids import find_by_short_id, id_range, short_id
from tests.api.v2helpers import upload
from tests.conftest import ApiClient

pytestmark = pytest.mark.anyio


def test_short_id_is_the_first_16_hex_digits() -> None:
    assert short_id("01234567-89ab-cdef-4123-456789abcdef") == "img_0123456789abcdef"
    assert short_id("01234567-89AB-CDEF-4123-456789ABCDEF") == "img_0123456789abcdef"
    with pytest.raises(ValueError, match="not a UUID"):
        short_id("0123")


def test_id_range_holds_exactly_the_ids_with_the_prefix() -> None:
    low, high = id_range("img_0123456789abcdef")
    assert (low, high) == ("01234567-89ab-cdef", "01234567-89ab-cdf0")
    assert low <= "01234567-89ab-cdef-4000-000000000000" < str(high)
    assert not low <= "01234567-89ab-cdee-ffff-ffffffffffff"
    assert not str(high) > "01234567-89ab-cdf0-0000-000000000000"
    # Carries across the dashes, and the very last prefix has no upper bound.
    assert id_range("img_0123456789abffff") == ("01234567-89ab-ffff", "01234567-89ac-0000")
    assert id_range("img_ffffffffffffffff") == ("ffffffff-ffff-ffff", None)
    for bad in ("img_0123", "img_0123456789ABCDEF", "0123456789abcdef"):
        with pytest.raises(ValueError, match="not a short image id"):
            id_range(bad)


async def _copy(runtime: Runtime, image_id: str, new_id: str, *, earlier: bool) -> None:
    async with runtime.db.writer() as session:
        source = await session.get(Image, image_id)
        assert source is not None
        shift = timedelta(hours=-1 if earlier else 1)
        session.add(
            Image(
                id=new_id,
                client_id=source.client_id,
                content_hash=source.content_hash,
                mime_type=source.mime_type,
                format=source.format,
                width=source.width,
                height=source.height,
                size=source.size,
                created_at=source.created_at + shift,
            )
        )


async def test_find_by_short_id(http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient) -> None:
    image_id = (await upload(http, tenant))["id"]
    found = await find_by_short_id(db=runtime.db, short=short_id(image_id))
    assert found is not None
    assert found.id == image_id
    assert await find_by_short_id(db=runtime.db, short="img_" + "0" * 16) is None
    assert await find_by_short_id(db=runtime.db, short="not-an-id") is None
    # Neighbours on both sides of the range are not taken for it.
    prefix = image_id[:18]
    value = int(prefix.replace("-", ""), 16)
    for neighbour in (value - 1, value + 1):
        digits = f"{neighbour:016x}"
        await _copy(runtime, image_id, f"{digits[:8]}-{digits[8:12]}-{digits[12:]}-4000-000000000000", earlier=True)
    found = await find_by_short_id(db=runtime.db, short=short_id(image_id))
    assert found is not None
    assert found.id == image_id


async def test_two_images_sharing_a_short_id_answer_the_oldest(
    http: httpx.AsyncClient, runtime: Runtime, tenant: ApiClient
) -> None:
    image_id = (await upload(http, tenant))["id"]
    later, earlier = image_id[:19] + "ffff-ffffffffffff", image_id[:19] + "0000-000000000000"
    await _copy(runtime, image_id, later if later != image_id else earlier, earlier=False)
    found = await find_by_short_id(db=runtime.db, short=short_id(image_id))
    assert found is not None
    assert found.id == image_id  # the first upload is older than the newcomer
    await _copy(runtime, image_id, earlier if earlier != image_id else later, earlier=True)
    oldest = await find_by_short_id(db=runtime.db, short=short_id(image_id))
    assert oldest is not None
    assert oldest.id != image_id
    assert oldest.created_at < found.created_at
