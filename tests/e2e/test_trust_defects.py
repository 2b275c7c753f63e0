"""The smaller trust defects of issue 23, each played through the real bot on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL: the refund charges /payments shows, a non-admin's /setup, an
anonymous admin's '/list 12', every typed number's digits, and control characters (NUL among
them, which PostgreSQL text cannot hold) in every free-text field."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from groupbuy.model import PaymentMethod, PaymentStatus, RefundReason
from sandbox.state import MemberRec
from storage.tables import CommunityRow, DealRow, ItemRow, ResidentRow
from tests.e2e.conftest import (
    World,
    answered_privately,
    become_resident,
    bot_says,
    deal_id_of,
    last_id,
    publish_one_message,
    say,
    set_up_group,
    text_of,
)
from tests.e2e.test_pay_online import DEAL, choose_mode

GENERIC = "Sorry, something went wrong"
CONTROLS = "\x00\x01\x07\x1b\x7f\x85"  # NUL, SOH, BEL, ESC, DEL, NEL (C1)


async def test_payments_lists_only_the_payees_charges_not_refunded_yet(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    await choose_mode(world, olga, group, "💳 Online (card)")
    post = await publish_one_message(world, olga, group, DEAL)
    deal_id = deal_id_of(post)
    ann, bob = await emu.add_user("Ann"), await emu.add_user("Bob")
    await emu.add_member(group, ann)
    await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
    now = world.clock.now()
    async with world.deps.uow() as uow:
        order = await uow.orders.of_user(deal_id, ann)
        assert order is not None

        async def paid(user: int, charge: str) -> int:
            payment = await uow.payments.add(
                order_id=order.id, deal_id=deal_id, user_id=user, method=PaymentMethod.TELEGRAM,
                status=PaymentStatus.RECEIVED, amount=8000, currency="CNY", now=now,
                charge_id=charge, provider_charge_id=f"prov-{charge}",
            )  # fmt: skip
            assert payment is not None
            return payment.id

        async def refund(user: int, payment_id: int | None, reason: RefundReason) -> None:
            await uow.payments.add_refund(
                order_id=order.id, deal_id=deal_id, user_id=user, payment_id=payment_id,
                amount=8000, currency="CNY", method=PaymentMethod.TELEGRAM, reason=reason, now=now,
            )  # fmt: skip

        late = await paid(ann, "ann-late")  # refunded in full already, by a refund naming it
        await paid(ann, "ann-kept")
        foreign = await paid(bob, "bob-card")  # Bob paid Ann's invoice: refunded to Bob
        await refund(ann, late, RefundReason.LATE)
        [done] = await uow.payments.refunds_for_order(order.id)
        await uow.payments.refund_done(done.id, now)
        await refund(bob, foreign, RefundReason.MISMATCH)
        await refund(ann, None, RefundReason.REDUCED)  # names no charge
        await uow.commit()

    await say(world, olga, olga, "/start")
    after = last_id(world, olga)
    await emu.send_message(olga, olga, f"/payments {deal_id}")
    listed = await bot_says(world, olga, after, "Refunds to make", timeout=10)
    lines = [line for line in text_of(listed).splitlines() if "CN¥80.00" in line]
    assert len(lines) == 2, lines
    # Bob never wrote to the bot: his refund is the one showing his charge, and only it.
    [bobs] = [line for line in lines if "prov-bob-card" in line]
    [anns] = [line for line in lines if line != bobs]
    assert "prov-ann" not in bobs
    # Ann's refund names no charge: her own charge not yet given back, nobody else's.
    assert "prov-ann-kept" in anns
    assert "prov-bob-card" not in anns and "prov-ann-late" not in anns


async def test_a_non_admins_setup_writes_nothing(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    owner = await emu.add_user("Olga")
    group = await emu.create_group("Quiet compound", owner=owner)
    # The bot is in the group, but its greeting was never seen (added while it was down for
    # longer than Telegram keeps updates): the group has no community row yet.
    bot = emu.state.bot.id
    emu.state.chats[group].members[bot] = MemberRec(bot, "member")
    sam = await emu.add_user("Sam")
    await emu.add_member(group, sam)
    refused = await say(world, sam, group, "/setup")
    assert "Only the group's admins" in text_of(refused)
    async with world.deps.uow() as uow:
        assert await uow.communities.get(group) is None
    offered = await say(world, owner, group, "/setup")
    assert offered.keyboard, text_of(offered)  # the owner continues in private
    async with world.deps.uow() as uow:
        assert await uow.communities.get(group) is not None


async def test_an_anonymous_admins_list_names_its_deal(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    no_minimum = DEAL.replace("Minimum: 2 people\n", "")
    first_post = await publish_one_message(world, olga, group, no_minimum)
    second_post = await publish_one_message(
        world, olga, group, no_minimum.replace("Cherries", "Plums")
    )
    first, second = deal_id_of(first_post), deal_id_of(second_post)
    ann = await emu.add_user("Ann")  # a buyer in each, so that both close
    await emu.add_member(group, ann)
    join = first_post.keyboard[0][0][1]
    await become_resident(world, ann, group, first_post.message_id, join)
    joined = await emu.press_button(ann, group, second_post.message_id, text="🛒 Join +1")
    assert joined.text and "× 1" in joined.text, joined
    hidden = await emu.add_user("Hao")
    await emu.add_member(group, hidden)
    await emu.make_admin(group, hidden, anonymous=True)
    await world.advance(timedelta(days=2))  # both close at their deadline
    await say(world, hidden, hidden, "/start")
    await world.advance(timedelta(seconds=20))  # the cached admin list is asked again
    after = last_id(world, group)
    await emu.send_message(hidden, group, f"/list {first}", as_anonymous_admin=True)
    ask = await bot_says(world, group, after, "which admin")
    answer = await emu.press_button(hidden, group, ask.message_id, text=ask.keyboard[0][0][0])
    assert answer.text == "Sent to you in private chat."
    document = await emu.wait_for_message(hidden, lambda m: m.document is not None)
    assert document.document is not None
    assert document.document.file_name == f"pickup-list-{first}.pdf", second


async def test_every_typed_number_reads_full_width_digits_and_no_other_script(
    any_world: World,
) -> None:
    world = any_world
    olga, group = await set_up_group(world)
    set_to = await say(world, olga, group, "/paywindow ４５")
    assert "45" in text_of(set_to), text_of(set_to)
    refused = await answered_privately(world, olga, group, "/paywindow ٤٥")
    assert "⚠️" in text_of(refused), text_of(refused)
    wide = DEAL.replace("| 80 | 10 | 3", "| ８０．５ | １０ | ３").replace(
        "tomorrow 20:00", "tomorrow ２０：００"
    )
    post = await publish_one_message(world, olga, group, wide)
    deal_id = deal_id_of(post)
    async with world.deps.uow() as uow:
        deal = await uow.deals.get(deal_id)
    assert deal is not None
    [item] = deal.items
    assert (item.price, item.stock, item.limit) == (8050, 10, 3)
    for other in ("| ٨٠ | 10 | 3", "| 80 | ¹⁰ | 3", "| 80 | 10 | ३"):
        after, in_group = last_id(world, olga), last_id(world, group)
        await world.emu.send_message(
            olga, group, "/newdeal\n" + DEAL.replace("| 80 | 10 | 3", other)
        )
        reply = await bot_says(world, olga, after)  # the mistake, to the leader in private
        assert text_of(reply).startswith("⚠️ Line 2: "), text_of(reply)
        assert last_id(world, group) == in_group + 1  # no post: only the leader's message


async def _column(world: World, statement: object) -> list[object]:
    engine = create_async_engine(world.settings.database_url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(statement)).scalars())  # type: ignore[call-overload]
    finally:
        await engine.dispose()


async def test_control_characters_are_dropped_from_every_free_text(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(
        world,
        name=f"Sunny{CONTROLS} Garden",
        buildings=f"1{CONTROLS}, 2",
        announced="Sunny Garden",
    )
    body = f"""Title: Lychees{CONTROLS}
Description: Fresh{CONTROLS}\tfrom Fujian
Item: Lychee{CONTROLS} | kg{CONTROLS} | 30 | 40 | 5
Deadline: tomorrow 20:00
Pickup: Gate{CONTROLS} 3
Window: Sun{CONTROLS} 8:00-9:00"""
    post = await publish_one_message(world, olga, group, body)
    assert GENERIC not in text_of(post)
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    await become_resident(
        world, ann, group, post.message_id, post.keyboard[0][0][1], room=f"10{CONTROLS}1"
    )
    texts = [
        *await _column(world, select(CommunityRow.name)),
        *await _column(world, select(CommunityRow.buildings)),
        *await _column(world, select(DealRow.title)),
        *await _column(world, select(DealRow.description)),
        *await _column(world, select(DealRow.pickup_place)),
        *await _column(world, select(DealRow.pickup_window)),
        *await _column(world, select(ItemRow.name)),
        *await _column(world, select(ItemRow.unit)),
        *await _column(world, select(ResidentRow.room)),
    ]
    assert "Lychees" in texts and "Sunny Garden" in texts and "101" in texts, texts
    assert "Fresh from Fujian" in texts, texts
    for text in texts:
        assert isinstance(text, str)
        assert not any(ch in text for ch in CONTROLS + "\t"), repr(text)
