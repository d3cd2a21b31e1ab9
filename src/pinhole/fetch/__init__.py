"""Fetching URLs chosen by others (uploads from a URL, remote origins) without letting them reach inside."""

from pinhole.fetch.fetcher import Fetched, Fetcher, FetchPolicy, Resolver, system_resolver

__all__ = ["FetchPolicy", "Fetched", "Fetcher", "Resolver", "system_resolver"]
