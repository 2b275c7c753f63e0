"""429 handling: injected failures, optional rate enforcement, and send/edit counters.

Counters are always kept (benchmarks compute "edits per group per minute" from
them); enforcement of Telegram's published limits is opt-in because most tests
want deterministic behaviour.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

from sandbox.errors import ApiError, too_many_requests

PRIVATE_PER_SECOND = 1
GROUP_PER_MINUTE = 20
GLOBAL_PER_SECOND = 30


@dataclass
class _Injection:
    method: str | None  # lower-cased; None = any method
    remaining: int
    retry_after: int


class FloodControl:
    def __init__(self, enforce: bool = False) -> None:
        self.enforce = enforce
        self._injections: list[_Injection] = []
        # chat_id -> [(time, kind)] where kind is "send" | "edit"
        self.actions: dict[int, list[tuple[float, str]]] = {}
        self._recent: deque[float] = deque()

    def inject(self, method: str | None, count: int, retry_after: int) -> None:
        self._injections.append(_Injection(method.lower() if method else None, count, retry_after))

    def check_injected(self, method: str) -> ApiError | None:
        for inj in self._injections:
            if inj.remaining > 0 and inj.method in (None, method.lower()):
                inj.remaining -= 1
                return too_many_requests(inj.retry_after)
        self._injections = [i for i in self._injections if i.remaining > 0]
        return None

    def check_rate(self, chat_id: int, is_private: bool, now: float) -> None:
        """Raise 429 when enforcement is on and this send/edit would exceed a limit."""
        if not self.enforce:
            return
        while self._recent and self._recent[0] <= now - 1:
            self._recent.popleft()
        if len(self._recent) >= GLOBAL_PER_SECOND:
            raise too_many_requests(_wait(self._recent[0] + 1, now))
        window, limit = (1.0, PRIVATE_PER_SECOND) if is_private else (60.0, GROUP_PER_MINUTE)
        recent = [t for t, _ in self.actions.get(chat_id, []) if t > now - window]
        if len(recent) >= limit:
            raise too_many_requests(_wait(recent[-limit] + window, now))

    def record(self, chat_id: int, kind: str, now: float) -> None:
        self.actions.setdefault(chat_id, []).append((now, kind))
        self._recent.append(now)

    def stats(self) -> dict[str, Any]:
        chats: dict[str, Any] = {}
        for chat_id, actions in self.actions.items():
            edits = [t for t, k in actions if k == "edit"]
            sends = [t for t, k in actions if k == "send"]
            chats[str(chat_id)] = {
                "sends": len(sends),
                "edits": len(edits),
                "max_edits_per_minute": _max_in_window(edits, 60.0),
                "max_actions_per_minute": _max_in_window([t for t, _ in actions], 60.0),
                "times": [[t, k] for t, k in actions],
            }
        return {"enforce": self.enforce, "chats": chats}


def _wait(until: float, now: float) -> int:
    return max(1, math.ceil(until - now))


def _max_in_window(times: list[float], window: float) -> int:
    best, start = 0, 0
    ordered = sorted(times)
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best
