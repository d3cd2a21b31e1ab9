"""What a parsed multipart upload hands to its caller: text fields and files already on disk."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """One file part, written to `path`. `filename` and `content_type` are the client's claims, not facts."""

    field: str
    filename: str | None
    content_type: str | None
    path: Path
    size: int
    sha256: str


@dataclass(slots=True)
class ParsedForm:
    """Text fields (every value, in order) and files. The caller owns the files until `cleanup()`."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[UploadedFile] = field(default_factory=list)

    def first(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[0] if values else None

    def files_for(self, field: str) -> list[UploadedFile]:
        return [upload for upload in self.files if upload.field == field]

    def cleanup(self) -> None:
        """Delete the temp files; a file already moved away (e.g. into the blob store) is skipped."""
        for upload in self.files:
            upload.path.unlink(missing_ok=True)
