"""pinhole's Python SDK: `Client` (blocking) and `AsyncClient` over the v2 API, typed models, URL building and
signing, and errors as typed exceptions carrying the API's error code."""

from pinhole_client.client import AsyncClient, Client
from pinhole_client.errors import (
    BadRequest,
    Busy,
    Forbidden,
    NotFound,
    PinholeError,
    RateLimited,
    TooLarge,
    Unauthorized,
    Unprocessable,
    UnsupportedFormat,
)
from pinhole_client.signing import Signer
from pinhole_client.urls import Transform

__all__ = [
    "AsyncClient",
    "BadRequest",
    "Busy",
    "Client",
    "Forbidden",
    "NotFound",
    "PinholeError",
    "RateLimited",
    "Signer",
    "TooLarge",
    "Transform",
    "Unauthorized",
    "Unprocessable",
    "UnsupportedFormat",
]
