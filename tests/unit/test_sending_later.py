"""bot.sender.Sender.perform_later: a long answer (handlers.actions.Later) sent in the
background, in order per chat, and given a last moment at a stop (the runtime's side:
tests/e2e/test_long_answers.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from bot.sender import RateLimits, Sender
from handlers.actions import Later, Send


class _Telegram:
    """Records what it sends; a chat in `held` takes nothing until `go` is set."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []
        self.go = asyncio.Event()
        self.held: set[int] = set()

    async def send(self, action: Send) -> int:
        if action.chat_id in self.held:
            await self.go.wait()
        await asyncio.sleep(0)  # a network call suspends
        self.sent.append((action.chat_id, action.text))
        return len(self.sent)


def _sender(telegram: _Telegram) -> Sender:
    return Sender(telegram, RateLimits(1000, 1000, 60_000))  # type: ignore[arg-type]


def _batch(chat: int, name: str, count: int) -> Later:
    """A long answer of `count` messages, each made only as it is about to be sent."""

    def parts() -> Iterator[Send]:
        for n in range(count):
            yield Send(chat, f"{name}{n}")

    return Later(chat, parts)


async def test_batches_to_one_chat_go_in_order_and_other_chats_do_not_wait_for_them() -> None:
    telegram = _Telegram()
    telegram.held = {1}
    sender = _sender(telegram)
    sender.perform_later(_batch(1, "a", 3))
    sender.perform_later(_batch(1, "b", 2))
    sender.perform_later(_batch(2, "c", 2))
    # Chat 1 is held up: chat 2's batch is sent meanwhile.
    for _ in range(50):
        await asyncio.sleep(0)
    assert telegram.sent == [(2, "c0"), (2, "c1")]
    telegram.go.set()
    await sender.finish_later(5.0)
    to_chat_1 = [text for chat, text in telegram.sent if chat == 1]
    assert to_chat_1 == ["a0", "a1", "a2", "b0", "b1"]


async def test_a_stop_waits_for_what_is_on_its_way_then_cuts_it_off() -> None:
    telegram = _Telegram()
    telegram.held = {1}
    sender = _sender(telegram)
    sender.perform_later(_batch(1, "a", 3))
    sender.perform_later(_batch(2, "c", 2))
    await sender.finish_later(0.2)  # chat 1 never goes: cut off; chat 2's were sent
    assert telegram.sent == [(2, "c0"), (2, "c1")]
    telegram.go.set()
    await asyncio.sleep(0.05)
    assert telegram.sent == [(2, "c0"), (2, "c1")]  # nothing of the cut-off batch went out
    await sender.finish_later(0.1)  # nothing left: returns at once


async def test_a_batch_that_fails_does_not_stop_the_next() -> None:
    class _Failing(_Telegram):
        async def send(self, action: Send) -> int:
            if action.text == "a1":
                raise RuntimeError("network stack broke")
            return await super().send(action)

    telegram = _Failing()
    sender = _sender(telegram)
    sender.perform_later(_batch(1, "a", 3))
    sender.perform_later(_batch(1, "b", 1))
    await sender.finish_later(5.0)
    assert telegram.sent == [(1, "a0"), (1, "b0")]
