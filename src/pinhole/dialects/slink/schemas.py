"""The slink JSON bodies, field for field as its document shows them (camelCase)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SlinkModel(BaseModel):
    """Request bodies: fields the document does not name are ignored, as a client written for Slink may send more."""

    model_config = ConfigDict(extra="ignore")


class SlinkLoginRequest(SlinkModel):
    username: str | None = Field(default=None, max_length=254, description="Username (or email).")
    email: str | None = Field(default=None, max_length=254, description="Email, instead of `username`.")
    password: str = Field(min_length=1, max_length=1024, repr=False)

    @property
    def identity(self) -> str:
        return next((value for value in (self.username, self.email) if value and value.strip()), "")


class SlinkRefreshRequest(SlinkModel):
    refresh_token: str = Field(min_length=1, max_length=1024, repr=False)


class SlinkLogoutRequest(SlinkModel):
    refresh_token: str | None = Field(default=None, max_length=1024, repr=False)


class Tokens(BaseModel):
    access_token: str = Field(description="A JWT: send it as `Authorization: Bearer <token>`.")
    refresh_token: str = Field(description="Exchange it once at `POST /api/auth/refresh` for a new pair.")
    token_type: str = "Bearer"  # noqa: S105 (a scheme name)
    expires_in: int = Field(description="Seconds until the access token expires.")


class Uploaded(BaseModel):
    id: str = Field(examples=["123e4567-e89b-12d3-a456-426614174000"])


class ExternalUploaded(Uploaded):
    url: str = Field(examples=["/api/image/image-uuid.jpg"])
    thumbnailUrl: str = Field(examples=["/api/image/image-uuid_thumbnail.jpg"])


class Detail(BaseModel):
    id: str
    fileName: str
    description: str
    isPublic: bool
    createdAt: str = Field(examples=["2025-07-11T22:03:06.000000+00:00"])
    updatedAt: str | None
    views: int
    size: int
    mimeType: str
    width: int
    height: int
    supportsResize: bool
    url: str = Field(examples=["/image/image-uuid.png"])


class Owner(BaseModel):
    id: str
    email: str | None
    displayName: str | None


class HistoryOwner(Owner):
    username: str | None


class CreatedAt(BaseModel):
    formattedDate: str
    timestamp: int


class Attributes(BaseModel):
    fileName: str
    description: str
    isPublic: bool
    createdAt: CreatedAt
    views: int


class Metadata(BaseModel):
    size: int
    mimeType: str
    width: int
    height: int


class ListedImage(BaseModel):
    id: str
    owner: Owner | None
    attributes: Attributes
    metadata: Metadata


class HistoryImage(BaseModel):
    id: str
    attributes: Attributes
    metadata: Metadata
    owner: HistoryOwner | None


class ListMeta(BaseModel):
    size: int
    page: int
    total: int | None
    nextCursor: str | None
    prevCursor: str | None


class HistoryMeta(BaseModel):
    size: int
    page: int
    total: int


class SlinkImageList(BaseModel):
    meta: ListMeta
    data: list[ListedImage]


class History(BaseModel):
    meta: HistoryMeta
    data: list[HistoryImage]


class SlinkImageUpdate(SlinkModel):
    description: str | None = Field(default=None, max_length=10_000)
    isPublic: bool | None = None


class ImageDelete(SlinkModel):
    preserveOnDisk: bool = False


class Violation(BaseModel):
    property: str
    message: str


class SlinkErrorBody(BaseModel):
    title: str
    message: str
    violations: list[Violation] = []


class SlinkErrorResponse(BaseModel):
    error: SlinkErrorBody
