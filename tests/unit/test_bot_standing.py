"""The bot's standing in a group (groupbuy.bot_standing, bot.telegram.bot_member_update): what
Telegram's my_chat_member says, and what each change owes the deals' leaders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiogram import types as tg

from bot.telegram import bot_member_update
from groupbuy.bot_standing import bot_status_changed
from groupbuy.model import BotStatus
from groupbuy.notices import Notice, NoticeKind
from handlers.events import BotAdded, BotStanding
from tests.fakes import FakeUnitOfWorkFactory, community, deal_spec
from tests.fakes import open_deal_committed as open_deal

T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
BOT = 4242
GROUP = community(-100321)
BOT_USER = tg.User.model_construct(id=BOT, is_bot=True, first_name="GroupBuy")
# What Telegram says of the bot in each standing (only what bot_status reads is filled in).
STATUSES: dict[str, tg.ChatMemberUnion] = {
    "administrator": tg.ChatMemberAdministrator.model_construct(user=BOT_USER),
    "member": tg.ChatMemberMember.model_construct(user=BOT_USER),
    "muted": tg.ChatMemberRestricted.model_construct(
        user=BOT_USER, is_member=True, can_send_messages=False
    ),
    "kicked": tg.ChatMemberBanned.model_construct(user=BOT_USER),
    "left": tg.ChatMemberLeft.model_construct(user=BOT_USER),
}


def _update(was: str, now: str) -> tg.ChatMemberUpdated:
    return tg.ChatMemberUpdated.model_construct(
        chat=tg.Chat.model_construct(id=GROUP.chat_id, type="supergroup", title="Garden"),
        from_user=tg.User.model_construct(id=7, is_bot=False, first_name="Olga"),
        date=0,
        old_chat_member=STATUSES[was],
        new_chat_member=STATUSES[now],
    )


@pytest.mark.parametrize(
    ("was", "now", "heard"),
    [
        ("left", "member", BotAdded),
        ("kicked", "administrator", BotAdded),
        ("member", "kicked", BotStanding),
        ("administrator", "member", BotStanding),
        ("member", "muted", BotStanding),
        ("muted", "member", BotStanding),
        ("member", "member", type(None)),
    ],
)
def test_what_my_chat_member_says(was: str, now: str, heard: type) -> None:
    event = bot_member_update(_update(was, now), BOT)
    assert isinstance(event, heard)
    if event is not None:
        assert event.status is BotStatus(now)


async def test_what_each_change_owes_the_leaders() -> None:
    uows = FakeUnitOfWorkFactory()
    deal = await open_deal(uows, T0, deal_spec(T0 + timedelta(days=1)), GROUP, leader_id=7)
    async with uows() as uow:
        await uow.deals.set_post(deal.id, GROUP.chat_id, 10)  # its post is up, and current
        await uow.commit()

    async def change(status: BotStatus, at: datetime) -> list[tuple[NoticeKind, int]]:
        async with uows() as uow:
            await bot_status_changed(uow, GROUP.chat_id, status, at)
            await uow.commit()
        async with uows() as uow:
            owed = await uow.outbox.claim(at, 100, 10)
            for pending in owed:  # sent: only what a change owes shows the next time
                await uow.outbox.sent(pending.id, at)
            await uow.commit()
        return [(p.notice.kind, p.notice.chat_id) for p in owed]

    assert await change(BotStatus.ADMINISTRATOR, T0) == []
    assert await change(BotStatus.MEMBER, T0) == [(NoticeKind.BOT_DEMOTED, 7)]
    assert await change(BotStatus.MUTED, T0 + timedelta(minutes=1)) == [(NoticeKind.BOT_REMOVED, 7)]
    # Heard again (a 403 after the update): nothing more.
    assert await change(BotStatus.MUTED, T0 + timedelta(minutes=2)) == []
    async with uows() as uow:
        assert await uow.deals.stale_posts(10) == []  # (not edited while the bot is muted)
        # Owed to the group meanwhile, and held back for an hour (as the background holds one
        # that was refused there).
        reminder = Notice(NoticeKind.DEADLINE_REMINDER, GROUP.chat_id, deal.id)
        await uow.outbox.add([reminder], T0 + timedelta(hours=1))
        held = await uow.outbox.claim(T0 + timedelta(minutes=2), 10, 10)
        assert held == []  # nothing for a group the bot may not write in is even claimed
        await uow.commit()
    # Back: no notice for the leader, and what was owed to the group goes out at once.
    assert await change(BotStatus.MEMBER, T0 + timedelta(minutes=3)) == [
        (NoticeKind.DEADLINE_REMINDER, GROUP.chat_id)
    ]
    async with uows() as uow:
        stale = await uow.deals.stale_posts(10)
    assert [s.deal_id for s in stale] == [deal.id]  # its post is brought up to date
