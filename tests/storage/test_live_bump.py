"""storage.live bump: a change to an order makes stale exactly the messages that show it (the
buyer's order card, its checklist line, its deal's payments view), and a deal's change every
message of that deal; on SQLite and PostgreSQL, with the statements built once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from groupbuy.live import Live, LiveKind, Touched
from groupbuy.model import PaymentMode
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.fakes import community, deal_spec, item_spec

T0 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
CHAT = community(-100333)
LEADER = 7


async def test_a_change_stales_the_messages_that_show_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    uows = SqlUnitOfWorkFactory(sessions)
    async with uows() as uow:
        await uow.communities.save(CHAT)
        spec = deal_spec(T0 + timedelta(days=1), item_spec("Lychee", stock=99, limit=None))
        deal = await uow.deals.add(CHAT.chat_id, LEADER, "CNY", spec, T0, None, PaymentMode.LEADER)
        other = await uow.deals.add(CHAT.chat_id, LEADER, "CNY", spec, T0, None, PaymentMode.LEADER)
        a = await uow.orders.open_order(deal.id, CHAT.chat_id, 1, T0)
        b = await uow.orders.open_order(deal.id, CHAT.chat_id, 2, T0)
        c = await uow.orders.open_order(other.id, CHAT.chat_id, 1, T0)
        shown = {
            "card a": Live(LiveKind.CARD, deal.id, (1,)),
            "card b": Live(LiveKind.CARD, deal.id, (2,)),
            "card c": Live(LiveKind.CARD, other.id, (1,)),
            "checklist a+b": Live(LiveKind.CHECKLIST, deal.id, (a.id, b.id)),
            "checklist c": Live(LiveKind.CHECKLIST, other.id, (c.id,)),
            "payments": Live(LiveKind.PAYMENTS, deal.id),
            "payments other": Live(LiveKind.PAYMENTS, other.id),
        }
        for n, live in enumerate(shown.values()):
            await uow.live.record(live, LEADER, 100 + n, "h", T0)
        await uow.commit()

    async def stale_after(touched: Touched) -> set[str]:
        async with uows() as uow:  # everything shown, then the change
            for message in await uow.live.stale(100):
                await uow.live.shown(message.rows, "h")
            await uow.live.bump(touched)
            found = {m.message_id for m in await uow.live.stale(100)}
            await uow.commit()
        return {name for n, name in enumerate(shown) if 100 + n in found}

    assert await stale_after(Touched(orders={a.id})) == {"card a", "checklist a+b", "payments"}
    assert await stale_after(Touched(orders={b.id, c.id})) == {
        "card b",
        "card c",
        "checklist a+b",
        "checklist c",
        "payments",
        "payments other",
    }
    assert await stale_after(Touched(deals={other.id})) == {
        "card c",
        "checklist c",
        "payments other",
    }
    assert await stale_after(Touched()) == set()
