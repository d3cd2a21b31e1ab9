"""The last filter of every log line: credentials pinhole hands out and passwords in URLs are masked."""

from __future__ import annotations

import re

_SECRETS = re.compile(
    r"(?P<prefix>\b(?:phk|sk|uk|shr)_)[A-Za-z0-9_\-]{8,}"  # client, personal and upload keys, share tokens
    r"|\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"  # JWTs
    r"|(?P<scheme>\b[a-z][a-z0-9+.\-]*://)(?P<user>[^:/@\s]*):[^@/\s]+@"  # passwords in URLs
    r"|(?P<bearer>\b[Bb]earer\s+)[^\s\"',]+"
)


def _mask(match: re.Match[str]) -> str:
    if match.group("prefix"):
        return match.group("prefix") + "***"
    if match.group("scheme"):
        return f"{match.group('scheme')}{match.group('user')}:***@"
    if match.group("bearer"):
        return match.group("bearer") + "***"
    return "***"


_TRIGGERS = ("phk_", "sk_", "uk_", "shr_", "eyJ", "://", "earer")


def redact(text: str) -> str:
    # Substring tests first: a plain `in` is far cheaper than the regex, and almost no line holds any of these.
    for trigger in _TRIGGERS:
        if trigger in text:
            return _SECRETS.sub(_mask, text)
    return text
