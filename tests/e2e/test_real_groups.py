"""Real groups (issue 24): a basic group that Telegram turns into a supergroup keeps working.

Through the real runtime against the emulator over HTTP, on SQLite and PostgreSQL. The emulator
does what Telegram does: the members move to a new chat id, a service message in the old chat
says `migrate_to_chat_id` and one in the new chat `migrate_from_chat_id`, and every call naming
the old id is answered 400 with `parameters.migrate_to_chat_id`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from groupbuy.model import DealStatus
from sandbox.views import SentMessage
from storage.engine import make_engine
from storage.tables import (
    CommunityRow,
    DealRow,
    DialogRow,
    GroupAdminRow,
    OrderRow,
    OutboxRow,
    ResidentRow,
)
from tests.e2e.conftest import (
    World,
    become_resident,
    bot_says,
    close_now,
    deal_id_of,
    last_id,
    publish_one_message,
    say,
    set_up_group,
    text_of,
)

DEAL = """Title: Lychees
Item: Lychee | kg | 30 | 40 | 5
Deadline: tomorrow 20:00
Pickup: Gate 3
Window: Sun 8:00-9:00"""
HELD = DEAL.replace("Lychees", "Mangoes").replace("Lychee |", "Mango |")


def _calls_to(world: World, chat_id: int, since: int) -> list[Any]:
    return [
        e
        for e in world.emu.state.requests_log[since:]
        if e.params.get("chat_id") is not None and int(e.params["chat_id"]) == chat_id
    ]


async def _rows_naming(world: World, old: int) -> dict[str, int]:
    """How many rows of each table still point at the old chat id (read past the bot)."""
    engine = make_engine(world.settings.database_url)
    columns = {
        "communities": CommunityRow.chat_id,
        "residents": ResidentRow.community_id,
        "deals.community_id": DealRow.community_id,
        "deals.post_chat_id": DealRow.post_chat_id,
        "orders": OrderRow.community_id,
        "outbox": OutboxRow.chat_id,
        "group_admins": GroupAdminRow.chat_id,
    }
    found: dict[str, int] = {}
    try:
        async with engine.connect() as conn:
            for name, column in columns.items():
                rows = (await conn.execute(select(column).where(column == old))).all()
                found[name] = len(rows)
            dialogs = (await conn.execute(select(DialogRow.data))).scalars().all()
            found["dialogs"] = sum(1 for d in dialogs if d.get("community") == old)
    finally:
        await engine.dispose()
    return found


_COLUMNS = (
    "communities",
    "residents",
    "deals.community_id",
    "deals.post_chat_id",
    "orders",
    "outbox",
    "group_admins",
    "dialogs",
)


def _posts_of(world: World, chat_id: int, deal_id: int) -> list[SentMessage]:
    return [
        m
        for m in world.emu.messages(chat_id)
        if m.from_bot
        and any(data.startswith(f"j:{deal_id}:") for row in m.keyboard for _, data in row)
    ]


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info]


async def _shows(world: World, chat_id: int, deal_id: int, text: str) -> None:
    def shown() -> bool:
        posts = _posts_of(world, chat_id, deal_id)
        return bool(posts) and text in (posts[0].text or "")

    await world.emu.wait_until(shown, timeout=10)


async def _community_with_backlog(world: World) -> tuple[int, int, int, int]:
    """A basic group with an open deal (Ann has ordered) and a second deal whose post is held
    back by a 429 (the outbox backlog). Returns (olga, group, deal, held deal)."""
    emu = world.emu
    olga, group = await set_up_group(world, basic=True)
    post = await publish_one_message(world, olga, group, DEAL)
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
    await emu.wait_until(
        lambda: "1 neighbour joined" in (_posts_of(world, group, deal_id_of(post))[0].text or ""),
        timeout=10,
    )
    await emu.inject_fault("flood", "sendMessage", chat_id=group, count=1, retry_after=30)
    await emu.send_message(olga, group, f"/newdeal\n{HELD}")

    async def held() -> int | None:
        async with world.deps.uow() as uow:
            found = await uow.deals.for_community(group, [DealStatus.OPEN], 5)
        later = [d for d in found if d.title == "Mangoes"]
        return later[0].id if later and later[0].post_message_id is None else None

    for _ in range(100):
        held_id = await held()
        if held_id is not None and any(
            e.method.lower() == "sendmessage" and not e.ok for e in _calls_to(world, group, 0)
        ):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the second deal's post was never held back")
    return olga, group, deal_id_of(post), held_id


@pytest.mark.parametrize(("order", "times"), [("to,from", 1), ("from,to", 2)])
async def test_a_group_that_becomes_a_supergroup_keeps_working(
    any_world: World, order: str, times: int, caplog: pytest.LogCaptureFixture
) -> None:
    world, emu = any_world, any_world.emu
    olga, old, deal, held = await _community_with_backlog(world)
    olga_before = last_id(world, olga)
    since = len(emu.state.requests_log)

    new = await emu.upgrade_to_supergroup(old, olga, order=order, times=times)

    # The leader is told privately, once, in their language, which deals went up again.
    told = await bot_says(world, olga, olga_before, "became a supergroup", timeout=10)
    assert f"#{deal} Lychees" in text_of(told)
    # The open deal is posted in the new chat with its counters, and the held one too.
    await emu.wait_until(lambda: len(_posts_of(world, new, deal)) == 1, timeout=10)
    assert "1 neighbour joined" in (_posts_of(world, new, deal)[0].text or "")
    # The held one goes up in the new chat once Telegram's hold on it is over (a hold of the
    # old chat's, kept as it was: at most retry_after late, never twice).
    await world.advance(timedelta(seconds=31))
    await emu.wait_until(lambda: len(_posts_of(world, new, held)) == 1, timeout=10)

    # Everything works there as before: a join, a new deal, the close and its pickup notice.
    bob = await emu.add_user("Bob")
    await emu.add_member(new, bob)
    repost = _posts_of(world, new, deal)[0]
    await become_resident(world, bob, new, repost.message_id, repost.keyboard[0][0][1], room="202")
    await emu.wait_until(
        lambda: "2 neighbours joined" in (_posts_of(world, new, deal)[0].text or ""), timeout=10
    )
    third = await publish_one_message(world, olga, new, DEAL.replace("Lychees", "Pears"))
    assert "Pears" in text_of(third)
    after = last_id(world, new)
    answer = await close_now(world, olga, new, repost.message_id)
    assert answer.text == "Deal closed."
    await bot_says(world, new, after, "Pickup notice: Lychees", timeout=10)
    listed = await say(world, olga, olga, f"/list {deal}")
    assert listed.document is not None or "Lychees" in (listed.text or "")

    # Nothing more went to the old id than the one call that heard it had moved, and the
    # move happened once however the service messages came.
    await asyncio.sleep(0.5)
    assert len(_calls_to(world, old, since)) <= 1
    assert sum("became a supergroup" in (m.text or "") for m in emu.messages(olga)) == 1
    posts = [m for m in emu.messages(new) if m.from_bot and "🛒 Lychees" in (m.text or "")]
    assert len(posts) == 1 and (posts[0].text or "").startswith("✅ CLOSED")
    assert await _rows_naming(world, old) == dict.fromkeys(_COLUMNS, 0)
    assert _tracebacks(caplog) == []


async def test_a_move_heard_only_from_a_400_moves_too(
    any_world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """No service message reaches the bot: the first call naming the old id (the deadline
    reminder) is answered 400 with the new id, and that is enough."""
    world, emu = any_world, any_world.emu
    olga, old = await set_up_group(world, basic=True)
    post = await publish_one_message(world, olga, old, DEAL)
    deal = deal_id_of(post)
    olga_before = last_id(world, olga)
    new = await emu.upgrade_to_supergroup(old, olga, times=0)
    since = len(emu.state.requests_log)

    async with world.deps.uow() as uow:
        found = await uow.deals.get(deal)
    assert found is not None
    await world.advance(found.deadline - world.clock.now() - timedelta(minutes=30))

    await bot_says(world, new, 0, "Lychees", timeout=10)  # the reminder, in the new chat
    await bot_says(world, olga, olga_before, "became a supergroup", timeout=10)
    await emu.wait_until(lambda: len(_posts_of(world, new, deal)) == 1, timeout=10)
    calls = _calls_to(world, old, since)
    assert len(calls) == 1 and not calls[0].ok  # the one that heard it, and no more
    assert await _rows_naming(world, old) == dict.fromkeys(_COLUMNS, 0)
    assert _tracebacks(caplog) == []


async def _kicked_with_an_order(world: World) -> tuple[int, int, int, SentMessage, SentMessage]:
    """A group with an open deal and Ann's order. Returns (olga, group, ann, post, Ann's card)."""
    emu = world.emu
    olga, group = await set_up_group(world)
    post = await publish_one_message(world, olga, group, DEAL)
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    card = await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
    # The post shows Ann's join before anything happens to the bot: that edit is not one the
    # tests below count (the refresher paces it, so it could otherwise come after).
    await _shows(world, group, deal_id_of(post), "39 of 40 left")
    return olga, group, ann, post, card


async def _removed_then_back(
    world: World,
    olga: int,
    group: int,
    ann: int,
    post: SentMessage,
    card: SentMessage,
    since: int,
    calls: int,
) -> None:
    """What must hold once the bot is out of the group (however it heard), then added back."""
    emu = world.emu
    deal = deal_id_of(post)
    told = await bot_says(world, olga, 0, "can no longer post", timeout=10)
    assert f"#{deal} Lychees" in text_of(told)
    # Ann still sees and changes her order in private.
    answer = await emu.press_button(ann, ann, card.message_id, text="+1 Lychee")
    assert answer.text == "Lychee × 2 · total CN¥60.00"
    mine = await say(world, ann, ann, f"/start o_{deal}")
    assert "Lychee × 2" in text_of(mine)
    await asyncio.sleep(1.0)  # the background loop has come round several times
    assert len(_calls_to(world, group, since)) == calls
    assert sum("can no longer post" in (m.text or "") for m in emu.messages(olga)) == 1

    after = last_id(world, group)
    await emu.add_bot_to_group(group, olga)
    back = await bot_says(world, group, after, "I am back", timeout=10)
    assert f"#{deal} Lychees" in text_of(back)
    await _shows(world, group, deal, "38 of 40 left")  # the post, edited: her second unit


async def test_the_bot_removed_from_a_group_and_added_back(
    any_world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world, emu = any_world, any_world.emu
    olga, group, ann, post, card = await _kicked_with_an_order(world)
    since = len(emu.state.requests_log)
    await emu.remove_bot_from_group(group, olga)
    # Heard from my_chat_member first: not one call to the group until the bot is back.
    await _removed_then_back(world, olga, group, ann, post, card, since, calls=0)
    assert _tracebacks(caplog) == []


@pytest.mark.parametrize(
    ("fault", "options"),
    [
        ("blocked", {}),  # 403: removed
        ("refused", {"description": "not enough rights to send text messages to the chat"}),
    ],
)
async def test_a_403_from_the_group_says_the_same(
    any_world: World, caplog: pytest.LogCaptureFixture, fault: str, options: dict[str, Any]
) -> None:
    """Telegram's my_chat_member never came (the bot was offline too long, say): the first call
    to the group answered 403 (removed), or 400 "not enough rights" (muted), is enough, and it is
    the only one."""
    world, emu = any_world, any_world.emu
    olga, group, ann, _, card = await _kicked_with_an_order(world)
    await emu.wait_until(
        lambda: not world.runtime.background or not world.runtime.background.busy, timeout=10
    )
    since = len(emu.state.requests_log)
    await emu.inject_fault(fault, None, chat_id=group, **options)
    # Ann's +1 makes the post stale; its edit is the call that is answered 403.
    answer = await emu.press_button(ann, ann, card.message_id, text="+1 Lychee")
    assert answer.text == "Lychee × 2 · total CN¥60.00"
    await bot_says(world, olga, 0, "can no longer post", timeout=10)
    await asyncio.sleep(1.0)
    calls = _calls_to(world, group, since)
    assert len(calls) == 1 and not calls[0].ok
    assert _tracebacks(caplog) == []


async def test_a_deal_opened_in_a_topic_stays_in_it(
    any_world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """A forum group with a topic for group buys: the deal typed there is posted there, its
    edits and the answers to what is typed there stay there, and so does the pickup notice."""
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world, forum=True)
    topic = await emu.create_topic(group, olga, "Group buys")
    after = last_id(world, group)
    await emu.send_message(olga, group, f"/newdeal\n{DEAL}", thread_id=topic)
    post = await bot_says(world, group, after, "Lychees")
    assert post.thread_id == topic
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
    await _shows(world, group, deal_id_of(post), "1 neighbour joined")  # edited in place

    # What is typed in the topic is answered in it; what is typed in General, in General.
    for thread in (topic, None):
        after = last_id(world, group)
        await emu.send_message(olga, group, "/paymode", thread_id=thread)
        answer = await bot_says(world, group, after)
        assert answer.thread_id == thread

    after = last_id(world, group)
    await close_now(world, olga, group, post.message_id)
    notice = await bot_says(world, group, after, "Pickup notice: Lychees", timeout=10)
    assert notice.thread_id == topic
    bot_messages = [m for m in emu.messages(group) if m.from_bot and m.thread_id is None]
    assert all("Lychees" not in (m.text or "") for m in bot_messages)  # nothing in General
    assert _tracebacks(caplog) == []


async def test_the_communitys_topic_for_deals_and_a_closed_one(
    any_world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """/setup sent in a topic makes it the community's topic for deals: a deal not typed in a
    topic goes there. When that topic is closed, the deal's notices go to General instead and
    its leader is told, once."""
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world, forum=True)
    topic = await emu.create_topic(group, olga, "Group buys")
    after = last_id(world, group)
    await emu.send_message(olga, group, "/setup", thread_id=topic)
    assert (await bot_says(world, group, after)).thread_id == topic
    post = await publish_one_message(world, olga, group, DEAL)  # typed in General
    assert post.thread_id == topic

    await emu.close_topic(group, topic)
    after = last_id(world, group)
    answer = await close_now(world, olga, group, post.message_id)
    assert answer.text == "Deal closed."
    # (Nobody ordered: the deal did not form, and the group is told so.)
    notice = await bot_says(world, group, after, "Nobody joined Lychees", timeout=10)
    assert notice.thread_id is None  # General
    told = await bot_says(world, olga, 0, "closed or deleted", timeout=10)
    assert "send /setup in that topic" in text_of(told)
    async with world.deps.uow() as uow:
        community = await uow.communities.get(group)
        deal = await uow.deals.get(deal_id_of(post))
    assert community is not None and community.topic_id is None
    assert deal is not None and deal.thread_id is None
    await asyncio.sleep(0.5)
    assert sum("closed or deleted" in (m.text or "") for m in emu.messages(olga)) == 1
    assert _tracebacks(caplog) == []


async def test_the_bot_muted_in_a_group_and_unmuted(
    any_world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """An admin takes the bot's right to send messages: the same as a removal for the group
    (nothing sent there, the leader told once), and given back, the post catches up."""
    world, emu = any_world, any_world.emu
    olga, group, ann, post, card = await _kicked_with_an_order(world)
    since = len(emu.state.requests_log)
    await emu.restrict_bot(group, olga)
    await bot_says(world, olga, 0, "can no longer post", timeout=10)
    answer = await emu.press_button(ann, ann, card.message_id, text="+1 Lychee")
    assert answer.text == "Lychee × 2 · total CN¥60.00"
    await asyncio.sleep(1.0)
    assert _calls_to(world, group, since) == []
    await emu.restrict_bot(group, olga, muted=False)
    await _shows(world, group, deal_id_of(post), "38 of 40 left")
    assert sum("can no longer post" in (m.text or "") for m in emu.messages(olga)) == 1
    assert _tracebacks(caplog) == []
