"""Pickup codes: short, read aloud on a noisy Saturday morning, so no 0/O, 1/I/L look-alikes."""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 5  # 31**5 ≈ 28.6M codes per community: collisions are rare and retried
# A code as the bot writes it, inside a longer text ("🔑 Pickup code: K7P2X"): capitals and
# digits of the alphabet, not part of a longer word or number.
_IN_TEXT = re.compile(rf"(?<![0-9A-Za-z])[{ALPHABET}]{{{LENGTH}}}(?![0-9A-Za-z])")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize_code(text: str) -> str | None:
    """Accept what a leader types ('k7p2x', ' K7P2X ') and return the code, or None."""
    code = text.strip().upper()
    if len(code) != LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def codes_in(text: str) -> list[str]:
    """The codes written in a message (a pickup notice forwarded to the leader), each once."""
    return list(dict.fromkeys(_IN_TEXT.findall(text)))
