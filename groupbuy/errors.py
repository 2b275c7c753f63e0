"""Errors the domain raises; each carries a message key the conversation layer translates."""

from __future__ import annotations


class DomainError(Exception):
    """A rule said no. `key` names the message shown to the user; `params` fill it in."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class InputError(DomainError):
    """Something typed by a person could not be understood or is out of bounds."""


class NotAllowed(DomainError):
    """The person asking may not do this (not a leader, not their order)."""


class NotAnswered(DomainError):
    """Telegram could not be asked who leads or belongs to a group: neither yes nor no."""

    def __init__(self) -> None:
        super().__init__("lookup_unavailable")
