"""Request and response shapes of the account key routes (personal `sk_` keys and upload keys)."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, Field

from pinhole.api.schemas import Schema
from pinhole.services.keys import MAX_NAME


class ApiKeyCreate(Schema):
    name: str | None = Field(default=None, max_length=MAX_NAME, examples=["backup script"])
    expires_at: AwareDatetime | None = Field(
        default=None, description="When the key stops working (ISO 8601 with a time zone); none = never."
    )


class ApiKeyPublic(Schema):
    id: str
    name: str
    prefix: str = Field(description="The key's first characters, to tell keys apart.", examples=["sk_3f9a27c1"])
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = Field(description="Recorded at most once a minute.")


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="`sk_` and 64 hex characters. Shown only now; only a hash is stored.")


class ApiKeyList(Schema):
    data: list[ApiKeyPublic]


class UploadKeyCreate(Schema):
    name: str | None = Field(default=None, max_length=MAX_NAME, examples=["ShareX on my laptop"])


class UploadKeyPublic(Schema):
    id: str
    name: str
    prefix: str = Field(examples=["uk_Xq2v9sLm"])
    created_at: datetime
    last_used_at: datetime | None = Field(description="Recorded at most once a minute.")
    sharex_url: str = Field(description="Where to download a ready ShareX config (.sxcu) for this key.")


class UploadKeyCreated(UploadKeyPublic):
    key: str = Field(description="Send it as `X-Upload-Key`; it may only upload. Also inside the ShareX config.")


class UploadKeyList(Schema):
    data: list[UploadKeyPublic]
