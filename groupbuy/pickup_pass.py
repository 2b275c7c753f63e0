"""The pickup pass: an order's code and community in a QR code, signed by the bot.

A code typed at the table is checked against the leader's own community; a QR is read by a
scanner, so what it says must not be taken on trust: a pass made up by someone (another
community's id, a guessed code) or damaged fails its signature and changes nothing.

    GB1.<community id>.<code>.<signature>

The signature is HMAC-SHA256 over "<community id>:<code>" with the bot's pass key, cut to 96
bits and written in base64url (16 characters): a QR of ~40 characters, quick to scan. The key is
derived from the bot's token (bot.runtime), so a new token makes the old passes invalid, as a
leader would expect after a token was revoked; the codes themselves still work typed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from groupbuy.codes import normalize_code
from groupbuy.errors import DomainError

PREFIX = "GB1"
_SIGNATURE_BYTES = 12
# What looks like a pass at all: a scanner hands over exactly this, a message may hold it among
# other words. Anything else is not a pass (a code typed alone, a question).
_PASS = re.compile(
    r"(?<![0-9A-Za-z])GB1\.(-?[0-9]{1,20})\.([0-9A-Za-z]{1,16})\.([A-Za-z0-9_-]{0,40})"
)


@dataclass(frozen=True, slots=True)
class Pass:
    community_id: int
    code: str


def key_from_token(token: str) -> bytes:
    """The pass key: the bot's secret token run through HMAC with a label of its own, so the
    token itself is never what signs."""
    return hmac.new(b"groupbuy pickup pass", token.encode(), hashlib.sha256).digest()


def _signature(key: bytes, community_id: int, code: str) -> str:
    digest = hmac.new(key, f"{community_id}:{code}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:_SIGNATURE_BYTES]).decode()


def payload(key: bytes, community_id: int, code: str) -> str:
    return f"{PREFIX}.{community_id}.{code}.{_signature(key, community_id, code)}"


def find(text: str) -> str | None:
    """The pass written in a text (what a scanner read, a forwarded message), or None."""
    found = _PASS.search(text)
    return found.group(0) if found else None


def read(key: bytes, text: str) -> Pass:
    """The pass in `text`, its signature checked: refused (`pass_invalid`) when it is not one
    the bot made, whatever part of it is wrong."""
    found = _PASS.search(text)
    if found is None:
        raise DomainError("pass_invalid")
    community, raw_code, signature = found.groups()
    code = normalize_code(raw_code)
    if code is None or code != raw_code:
        raise DomainError("pass_invalid")
    community_id = int(community)
    expected = _signature(key, community_id, code)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise DomainError("pass_invalid")
    return Pass(community_id, code)
