"""Upload limits and the errors that report them in human units."""

from __future__ import annotations

from dataclasses import dataclass

from pinhole.errors import InvalidInput, PayloadTooLarge

# Room per part for the boundary line and part headers (python-multipart allows 8 headers of ~4 KiB).
PART_OVERHEAD = 36 * 1024


@dataclass(frozen=True, slots=True)
class UploadLimits:
    max_file_bytes: int
    max_files: int
    max_fields: int
    max_field_bytes: int
    # Past the limit, a file's bytes are still read (and dropped) up to this many to report its real size.
    measure_file_bytes: int = 0

    def __post_init__(self) -> None:
        if min(self.max_file_bytes, self.max_files, self.max_fields, self.max_field_bytes) < 0:
            raise ValueError(f"upload limits must not be negative: {self}")

    @property
    def measuring(self) -> bool:
        return self.measure_file_bytes > self.max_file_bytes

    @property
    def max_body_bytes(self) -> int:
        """The largest body that can be valid (or measured): every file and field at its limit, plus framing."""
        files = self.max_files * (max(self.max_file_bytes, self.measure_file_bytes) + PART_OVERHEAD)
        fields = self.max_fields * (self.max_field_bytes + PART_OVERHEAD)
        return files + fields + PART_OVERHEAD

    def file_too_large(self, field: str, *, size: int | None = None) -> PayloadTooLarge:
        """`size`: the file's real size when it was measured to its end."""
        limit = self.max_file_bytes
        return PayloadTooLarge(
            f"The file is too large: the limit is {human_size(limit)} per file.",
            field=field,
            details={"limit": limit, "field": field} | ({} if size is None else {"size": size}),
        )

    def body_too_large(self) -> PayloadTooLarge:
        each = human_size(self.max_file_bytes)
        return PayloadTooLarge(
            f"The upload is too large: at most {self.max_files} files of {each} each.",
            details={"limit": self.max_file_bytes, "max_files": self.max_files},
        )

    def too_many_files(self, field: str) -> InvalidInput:
        return InvalidInput(
            f"Too many files: at most {self.max_files} per upload.",
            field=field,
            details={"limit": self.max_files},
        )

    def too_many_fields(self, field: str) -> InvalidInput:
        return InvalidInput(
            f"Too many form fields: at most {self.max_fields}.",
            field=field,
            details={"limit": self.max_fields},
        )

    def field_too_large(self, field: str) -> InvalidInput:
        limit = self.max_field_bytes
        return InvalidInput(
            f"The form field is too long: the limit is {human_size(limit)}.",
            field=field,
            details={"limit": limit},
        )


def human_size(size: int) -> str:
    """`10485760` -> `"10 MB"`, `1536` -> `"1.5 KB"` (binary units, as file managers show them)."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"
