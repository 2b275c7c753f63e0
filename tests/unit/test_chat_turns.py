"""bot.chat_turns: the updates waiting for a handler slot, a line per chat served in turn."""

from __future__ import annotations

from typing import Any

import pytest

from bot.chat_turns import ChatTurns, chat_of


def _message(update_id: int, chat: int) -> dict[str, Any]:
    return {"update_id": update_id, "message": {"chat": {"id": chat}, "from": {"id": 5}}}


def _press(update_id: int, chat: int | None, person: int) -> dict[str, Any]:
    query: dict[str, Any] = {"id": "q", "from": {"id": person}, "data": "x"}
    if chat is not None:
        query["message"] = {"message_id": 1, "chat": {"id": chat}}
    return {"update_id": update_id, "callback_query": query}


def test_the_chat_of_each_kind_of_update() -> None:
    assert chat_of(_message(1, -100)) == -100
    assert chat_of(_press(2, -100, 7)) == -100  # a button under a group's post
    assert chat_of(_press(3, None, 7)) == 7  # an inline message's button: the person's
    assert chat_of({"update_id": 4, "pre_checkout_query": {"from": {"id": 8}}}) == 8
    assert chat_of({"update_id": 5, "my_chat_member": {"chat": {"id": -3}}}) == -3
    assert chat_of({"update_id": 6}) == 0


def test_chats_take_turns_and_each_keeps_its_order() -> None:
    turns = ChatTurns()
    for update_id, chat in ((1, -100), (2, -100), (3, -100), (4, 42), (5, -100), (6, 43)):
        turns.append(_message(update_id, chat))
    assert len(turns) == 6 and turns.oldest() == 1
    taken = [turns.popleft()["update_id"] for _ in range(6)]
    assert taken == [1, 4, 6, 2, 3, 5]
    assert not turns and turns.oldest() is None
    with pytest.raises(IndexError):
        turns.popleft()


def test_the_oldest_waiting_is_not_always_the_next() -> None:
    turns = ChatTurns()
    for update_id, chat in ((1, -100), (2, -100), (3, 42)):
        turns.append(_message(update_id, chat))
    assert turns.popleft()["update_id"] == 1
    assert turns.popleft()["update_id"] == 3  # 42's turn: -100's 2 still waits
    assert turns.oldest() == 2 and [r["update_id"] for r in turns] == [2]
    turns.clear()
    assert len(turns) == 0 and turns.oldest() is None
