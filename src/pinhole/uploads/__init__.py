"""Streaming multipart uploads: files go to temp files with byte limits enforced while reading."""

from pinhole.uploads.form import ParsedForm, UploadedFile
from pinhole.uploads.multipart import parse_multipart, receive_multipart

__all__ = ["ParsedForm", "UploadedFile", "parse_multipart", "receive_multipart"]
