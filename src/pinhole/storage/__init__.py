"""Blob storage for image originals and cached variants: one narrow protocol, one class per backend."""

from pinhole.storage.base import BlobStore
from pinhole.storage.factory import create_blob_store
from pinhole.storage.keys import original_key, validate_key, variant_key, variants_prefix

__all__ = ["BlobStore", "create_blob_store", "original_key", "validate_key", "variant_key", "variants_prefix"]
