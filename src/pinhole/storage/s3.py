"""`S3BlobStore`: blobs as objects in a bucket of any S3-compatible service (AWS S3, MinIO, Ceph, R2, Garage).

botocore's client is synchronous and documented thread-safe once created, so one client is shared by the worker
threads each call runs in (anyio's `to_thread`). Objects are written whole by one request (`PutObject`) or by a
multipart upload that S3 assembles on completion, so readers never see a torn object.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
from anyio import to_thread
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from pinhole.errors import BlobNotFound, StorageError
from pinhole.storage.base import BlobEntry, write_read_delete_probe
from pinhole.storage.keys import is_valid_key, validate_key, validate_prefix

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from pinhole.settings import S3Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_UNAVAILABLE = "The image storage is unavailable."


class S3BlobStore:
    """A `BlobStore` over one bucket (and key prefix) of an S3-compatible service."""

    def __init__(self, settings: S3Settings) -> None:
        if not settings.bucket:
            raise ValueError("the S3 blob store needs a bucket")
        self.bucket = settings.bucket
        self.prefix = settings.prefix
        self._transfer = TransferConfig(
            multipart_threshold=settings.multipart_threshold,
            multipart_chunksize=settings.multipart_part_size,
            # Parts go up one after another from this worker thread: memory stays at about one part.
            use_threads=False,
        )
        secret = settings.secret_access_key.get_secret_value() if settings.secret_access_key else None
        config = Config(
            region_name=settings.region,
            signature_version="s3v4",
            s3={"addressing_style": "path" if settings.path_style else "auto"},
            retries={"max_attempts": settings.max_attempts, "mode": "standard"},
            connect_timeout=settings.timeout_seconds,
            read_timeout=settings.timeout_seconds,
            max_pool_connections=settings.max_connections,
            # botocore >= 1.36 adds CRC checksums to every upload by default, which several S3-compatible
            # services reject or mishandle; send and check them only where the S3 API requires them.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        # A private session: boto3's default session is shared module state and not thread-safe.
        session = boto3.session.Session()
        self._client: S3Client = session.client(
            "s3",
            endpoint_url=settings.endpoint_url,
            aws_access_key_id=settings.access_key_id,
            aws_secret_access_key=secret,
            config=config,
        )
        self.retries = 0  # requests botocore retried (read by the metrics sampler)
        self._client.meta.events.register("after-call.s3", self._count_retries)

    async def put_file(self, key: str, path: Path, *, move: bool = False) -> int:
        name = self._name(key)
        with _storage_errors("put_file", key):
            size = await to_thread.run_sync(self._upload_file, name, path)
            if move:
                await to_thread.run_sync(path.unlink)
        return size

    async def put_bytes(self, key: str, data: bytes) -> None:
        name = self._name(key)
        with _storage_errors("put_bytes", key):
            await self._call(self._client.put_object, Bucket=self.bucket, Key=name, Body=data)

    async def get_bytes(self, key: str) -> bytes:
        name = self._name(key)
        with _storage_errors("get_bytes", key):
            response = await self._call(self._client.get_object, Bucket=self.bucket, Key=name)
            body = response["Body"]
            try:
                return await to_thread.run_sync(body.read)
            finally:
                body.close()

    def stream(
        self, key: str, *, start: int = 0, end: int | None = None, chunk_size: int = 65536
    ) -> AsyncIterator[bytes]:
        if start < 0 or (end is not None and end < start) or chunk_size < 1:
            raise ValueError(f"invalid range start={start} end={end} chunk_size={chunk_size}")
        return self._stream(key, self._name(key), start, end, chunk_size)

    async def stat(self, key: str) -> int | None:
        name = self._name(key)
        with _storage_errors("stat", key):
            try:
                response = await self._call(self._client.head_object, Bucket=self.bucket, Key=name)
            except BlobNotFound:
                # A HEAD answer has no body: a missing bucket is a 404 too. `health_check` tells them apart.
                return None
            return response["ContentLength"]

    async def delete(self, key: str) -> None:
        name = self._name(key)
        with _storage_errors("delete", key):
            await self._call(self._client.delete_object, Bucket=self.bucket, Key=name)

    async def list_keys(self, prefix: str = "") -> AsyncIterator[str]:
        async for entry in self.list_entries(prefix):
            yield entry.key

    async def list_entries(self, prefix: str = "") -> AsyncIterator[BlobEntry]:
        validate_prefix(prefix)
        token: str | None = None
        while True:
            with _storage_errors("list_keys", prefix):
                page = await to_thread.run_sync(self._list_page, self.prefix + prefix, token)
            for item in page.get("Contents", []):
                key = item["Key"][len(self.prefix) :]
                if is_valid_key(key):  # foreign objects under the prefix are not blobs
                    modified = item["LastModified"]
                    modified = modified if modified.tzinfo else modified.replace(tzinfo=UTC)
                    yield BlobEntry(key=key, size=int(item["Size"]), modified=modified)
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or token is None:
                return

    async def remove_stale_temp(self, older_than: datetime, *, remove: bool = True) -> int:
        """Abort the multipart uploads under this store's prefix started before `older_than` (a writer killed
        mid-upload leaves its parts billed and invisible until then); only count them when not `remove`."""
        with _storage_errors("remove_stale_temp", ""):
            return await to_thread.run_sync(self._abort_stale_uploads, older_than, remove)

    def _abort_stale_uploads(self, older_than: datetime, remove: bool) -> int:
        aborted = 0
        paginator = self._client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for upload in page.get("Uploads", []):
                started = upload["Initiated"]
                started = started if started.tzinfo else started.replace(tzinfo=UTC)
                if started < older_than:
                    if remove:
                        self._client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                    aborted += 1
        return aborted

    async def health_check(self) -> None:
        await write_read_delete_probe(self)

    def local_path(self, key: str) -> Path | None:
        validate_key(key)
        return None

    async def presigned_url(
        self, key: str, expires: int, *, content_type: str | None = None, cache_control: str | None = None
    ) -> str:
        """A URL that lets anyone holding it GET the blob for `expires` seconds, without credentials.

        Objects are stored without metadata: `content_type` and `cache_control` are what the service is asked
        to answer with (signed into the URL, so they cannot be changed by its holder).
        """
        if expires < 1:
            raise ValueError(f"invalid presigned URL expiry {expires}")
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self._name(key)}
        if content_type is not None:
            params["ResponseContentType"] = content_type
        if cache_control is not None:
            params["ResponseCacheControl"] = cache_control
        with _storage_errors("presigned_url", key):
            # Signing is local computation, but resolving credentials may ask the instance metadata service.
            return await to_thread.run_sync(
                partial(self._client.generate_presigned_url, "get_object", Params=params, ExpiresIn=expires)
            )

    async def aclose(self) -> None:
        self._client.close()

    def _count_retries(self, **kwargs: Any) -> None:
        """botocore's `after-call` hooks: the parsed response says how many retries the call took."""
        metadata = (kwargs.get("parsed") or {}).get("ResponseMetadata") or {}
        self.retries += int(metadata.get("RetryAttempts", 0) or 0)

    def _name(self, key: str) -> str:
        return self.prefix + validate_key(key)

    async def _call(self, method: Callable[..., T], **kwargs: Any) -> T:
        """Run one client call in a worker thread, turning "no such key" into `BlobNotFound`."""
        try:
            return await to_thread.run_sync(partial(method, **kwargs))
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND_CODES:
                raise BlobNotFound("The requested file does not exist.") from None
            raise

    def _upload_file(self, name: str, path: Path) -> int:
        """Upload from disk in `multipart_part_size` pieces (one request below the threshold)."""
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            self._client.upload_fileobj(file, self.bucket, name, Config=self._transfer)
        return size

    def _list_page(self, prefix: str, token: str | None) -> Any:
        if token is None:
            return self._client.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return self._client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, ContinuationToken=token)

    async def _stream(self, key: str, name: str, start: int, end: int | None, chunk_size: int) -> AsyncIterator[bytes]:
        if end is not None and end == start:
            # An empty window needs no bytes, but a missing blob must still be reported.
            if await self.stat(key) is None:
                raise BlobNotFound("The requested file does not exist.")
            return
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": name}
        if start or end is not None:
            kwargs["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        with _storage_errors("stream", key):
            try:
                response = await self._call(self._client.get_object, **kwargs)
            except ClientError as exc:
                if _error_code(exc) == "InvalidRange":  # the window starts at or past the end
                    return
                raise
            body = response["Body"]
            # Closed synchronously: awaiting in `finally` fails once the task is cancelled.
            try:
                while True:
                    chunk = await to_thread.run_sync(body.read, chunk_size)
                    if not chunk:
                        return
                    yield chunk
            finally:
                body.close()


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def _storage_errors(operation: str, key: str) -> Iterator[None]:
    """Turn a service, network or file error into a generic `StorageError`; the cause goes to the log."""
    try:
        yield
    except (ClientError, BotoCoreError, OSError) as exc:
        log.warning("s3 blob store: %s %s failed: %s", operation, key, exc)
        raise StorageError(_UNAVAILABLE) from exc
