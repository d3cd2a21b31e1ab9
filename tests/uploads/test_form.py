"""`ParsedForm` helpers and the human sizes in limit messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from pinhole.uploads import ParsedForm, UploadedFile
from pinhole.uploads.limits import UploadLimits, human_size


def uploaded(tmp_path: Path, field: str, name: str) -> UploadedFile:
    path = tmp_path / name
    path.write_bytes(b"x")
    return UploadedFile(field=field, filename=name, content_type=None, path=path, size=1, sha256="0" * 64)


def test_first_and_files_for(tmp_path: Path) -> None:
    files = [
        uploaded(tmp_path, "image", "a"),
        uploaded(tmp_path, "other", "b"),
        uploaded(tmp_path, "image", "c"),
    ]
    form = ParsedForm(fields={"title": ["one", "two"], "empty": []}, files=files)

    assert form.first("title") == "one"
    assert form.first("empty") is None
    assert form.first("missing") is None
    assert [upload.filename for upload in form.files_for("image")] == ["a", "c"]
    assert form.files_for("missing") == []


def test_cleanup_deletes_files_and_tolerates_moved_ones(tmp_path: Path) -> None:
    files = [uploaded(tmp_path, "image", "a"), uploaded(tmp_path, "image", "b")]
    files[0].path.rename(tmp_path / "moved-into-store")
    form = ParsedForm(files=files)

    form.cleanup()
    form.cleanup()

    assert [path.name for path in tmp_path.iterdir()] == ["moved-into-store"]


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (1023, "1023 bytes"),
        (1024, "1 KB"),
        (1536, "1.5 KB"),
        (10 * 1024**2, "10 MB"),
        (3 * 1024**3, "3 GB"),
    ],
)
def test_human_size(size: int, text: str) -> None:
    assert human_size(size) == text


def test_limits_refuse_negative_values() -> None:
    with pytest.raises(ValueError, match="negative"):
        UploadLimits(max_file_bytes=-1, max_files=1, max_fields=1, max_field_bytes=1)
