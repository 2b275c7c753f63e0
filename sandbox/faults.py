"""A Bot API on a bad day: faults injected per method and chat, for tests of what must arrive.

Each injection matches calls by method (None: any) and by chat (the call's `chat_id`, or the
`user_id` of a Stars refund; None: any chat), takes every `every`-th matching call, `count` times
at most (None: for as long as it is there), and makes it fail the way Telegram does:

- `server_error`: an HTTP 5xx with Telegram's error body (502 Bad Gateway by default); nothing done;
- `flood`: 429 with `retry_after`; nothing done;
- `blocked`: 403 "bot was blocked by the user"; nothing done;
- `refused`: 400 with `description` (e.g. a Stars refund Telegram will not make); nothing done;
- `reset_before`: the connection is dropped before the call is served: nothing done, no answer;
- `reset_after`: the call is served (a message is sent), then the connection is dropped: done,
  but the bot never hears so (it cannot tell this from `reset_before`);
- `delay`: answered normally after `seconds`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sandbox.errors import ApiError, bad_request, forbidden, too_many_requests

REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


class Fault(StrEnum):
    SERVER_ERROR = "server_error"
    FLOOD = "flood"
    BLOCKED = "blocked"
    REFUSED = "refused"
    RESET_BEFORE = "reset_before"
    RESET_AFTER = "reset_after"
    DELAY = "delay"


@dataclass
class Injection:
    fault: Fault
    method: str | None  # lower-cased
    chat_id: int | None
    count: int | None
    every: int
    retry_after: int
    seconds: float
    code: int
    description: str = "Bad Request"
    seen: int = 0  # matching calls so far
    fired: int = 0

    def due(self, method: str, chat_id: int | None) -> bool:
        """Counts a matching call; whether this one is to fail."""
        if self.count is not None and self.fired >= self.count:
            return False
        if self.method is not None and self.method != method.lower():
            return False
        if self.chat_id is not None and self.chat_id != chat_id:
            return False
        self.seen += 1
        return self.seen % self.every == 0

    def error(self) -> ApiError | None:
        """The error answer this fault gives, if it gives one."""
        if self.fault is Fault.SERVER_ERROR:
            return ApiError(self.code, REASONS.get(self.code, "Server Error"))
        if self.fault is Fault.FLOOD:
            return too_many_requests(self.retry_after)
        if self.fault is Fault.BLOCKED:
            return forbidden("bot was blocked by the user")
        if self.fault is Fault.REFUSED:
            return bad_request(self.description)
        return None


class Faults:
    def __init__(self) -> None:
        self.injections: list[Injection] = []
        self.fired: list[tuple[str, int | None, Fault]] = []  # (method, chat, fault) in order

    def inject(
        self,
        fault: Fault | str,
        method: str | None = None,
        *,
        chat_id: int | None = None,
        count: int | None = 1,
        every: int = 1,
        retry_after: int = 5,
        seconds: float = 1.0,
        code: int = 502,
        description: str = "Bad Request",
    ) -> Injection:
        injection = Injection(
            Fault(fault),
            method.lower() if method else None,
            chat_id,
            count,
            max(1, every),
            retry_after,
            seconds,
            code,
            description,
        )
        self.injections.append(injection)
        return injection

    def clear(self) -> None:
        self.injections.clear()

    def match(self, method: str, params: dict[str, Any]) -> Injection | None:
        """The first injection due for this call (every matching one counts it)."""
        chat = params.get("chat_id", params.get("user_id"))
        chat_id = chat if isinstance(chat, int) else None
        if isinstance(chat, str) and chat.lstrip("-").isdigit():
            chat_id = int(chat)
        taken = None
        for injection in self.injections:
            if injection.due(method, chat_id) and taken is None:
                taken = injection
        if taken is not None:
            taken.fired += 1
            self.fired.append((method, chat_id, taken.fault))
        return taken
