"""`PartialUploads`: the received pieces of resumable uploads, kept in the blob store until the last byte is in.

A blob store cannot append (S3 objects are written whole), so each piece a client sends is its own blob,
`partial/<upload id>/<offset>-<nonce>`, and the file is put together from its pieces, in order, when it is
complete. Living in the blob store (not on one machine's disk) lets any instance sharing the store continue an
upload another one began. Which pieces count is recorded by the caller (the database row of the upload): a piece
written by a request that then lost the race to record it is an orphan, removed with the upload's other pieces.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio

from pinhole.storage.base import BlobStore
from pinhole.storage.keys import PARTIAL_ROOT, partial_key, partial_prefix

ASSEMBLY_CHUNK = 1 << 20


@dataclass(frozen=True)
class Assembled:
    path: Path
    size: int
    sha256: str


class PartialUploads:
    """Pieces of unfinished uploads in one blob store; piece names are made here, never taken from a request."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store

    async def add_piece(self, upload_id: str, offset: int, path: Path) -> str:
        """Store the file at `path` (consumed) as the piece starting at `offset`; return the piece's name."""
        key = partial_key(upload_id, offset, secrets.token_hex(16))
        await self.store.put_file(key, path, move=True)
        return key.rpartition("/")[2]

    async def drop_piece(self, upload_id: str, name: str) -> None:
        await self.store.delete(self._key(upload_id, name))

    async def assemble(self, upload_id: str, names: Sequence[str], dest: Path) -> Assembled:
        """Write the pieces `names`, in that order, to the new file `dest`; the caller deletes `dest`."""
        digest, size = hashlib.sha256(), 0
        async with await anyio.open_file(dest, "xb") as out:
            for name in names:
                async for chunk in self.store.stream(self._key(upload_id, name), chunk_size=ASSEMBLY_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    await out.write(chunk)
        return Assembled(path=dest, size=size, sha256=digest.hexdigest())

    async def discard(self, upload_id: str) -> int:
        """Delete every piece of the upload (recorded or orphaned); return how many there were."""
        keys = [key async for key in self.store.list_keys(partial_prefix(upload_id))]
        for key in keys:
            await self.store.delete(key)
        return len(keys)

    async def upload_ids(self) -> AsyncIterator[str]:
        """Every upload id that has at least one piece in the store, once each, in order."""
        last = None
        async for key in self.store.list_keys(PARTIAL_ROOT):
            upload_id = key[len(PARTIAL_ROOT) :].partition("/")[0]
            if upload_id != last and _is_upload_id(upload_id):
                last = upload_id
                yield upload_id

    def _key(self, upload_id: str, name: str) -> str:
        offset, _, nonce = name.partition("-")
        return partial_key(upload_id, int(offset), nonce)


def _is_upload_id(text: str) -> bool:
    try:
        partial_prefix(text)
    except ValueError:
        return False
    return True
