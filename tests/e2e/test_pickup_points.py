"""Pickup points: a leader describes the group's once (/points), a deal offers several, each buyer
chooses theirs when joining (remembered for the next deal), sees it on the map, and is told it
with their pickup notice. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import asyncio
import io

from pypdf import PdfReader

from sandbox.views import SentMessage
from tests.e2e.conftest import (
    World,
    answered_privately,
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

OFFICE = "/points Property office | Building 1 lobby | 8:00-20:00"
SHOP = "/points Shop 12 | 5 Gate Road | 9:00-21:00 | 31.2304, 121.4737"
DEAL = """Title: {title}
Item: Lychee | kg | 30 | 40 | 5
Deadline: tomorrow 20:00
Pickup: property office / Shop 12
Window: Sun 8:00-9:00"""


async def _card_shows(world: World, chat: int, message_id: int, text: str) -> SentMessage:
    """The message once it has been edited to show `text`."""

    def card() -> SentMessage:
        return next(m for m in world.emu.messages(chat) if m.message_id == message_id)

    await world.emu.wait_until(lambda: text in (card().text or ""))
    return card()


async def _points_of(world: World, group: int) -> dict[str, int]:
    async with world.deps.uow() as uow:
        return {p.name: p.id for p in await uow.points.of_community(group)}


async def test_a_buyer_chooses_a_point_once_and_it_is_remembered(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    added = await say(world, olga, group, OFFICE, "Pickup points")
    assert "Added: Property office" in text_of(added)
    listed = await say(world, olga, group, SHOP, "Pickup points")
    assert "Property office — Building 1 lobby · 🕘 8:00-20:00" in text_of(listed)
    assert "Shop 12 — 5 Gate Road · 🕘 9:00-21:00 · 🗺" in text_of(listed)
    # Bad input: a reason (to her alone), and nothing added.
    wrong = await answered_privately(world, olga, group, "/points Kiosk | x | y | 99.5, 300")
    assert "latitude, longitude" in text_of(wrong)
    twice = await answered_privately(world, olga, group, "/points property OFFICE")
    assert "already" in text_of(twice)
    points = await _points_of(world, group)
    assert list(points) == ["Property office", "Shop 12"]

    post = await publish_one_message(world, olga, group, DEAL.format(title="Lychees"))
    assert "Property office / Shop 12" in text_of(post)
    deal = deal_id_of(post)
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    card = await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
    # The deal's first point until she chooses; the card asks her to.
    assert "Property office (Building 1 lobby)" in text_of(card)
    assert "Choose where you collect" in text_of(card)
    assert "✅ Property office" in card.button_labels()
    assert "📍 Shop 12" in card.button_labels()

    answer = await emu.press_button(ann, ann, card.message_id, text="📍 Shop 12")
    assert answer.text == "You collect at Shop 12."
    card = await _card_shows(world, ann, card.message_id, "Shop 12 (5 Gate Road)")
    assert "Open: 9:00-21:00" in text_of(card)
    assert "✅ Shop 12" in card.button_labels()
    async with world.deps.uow() as uow:
        order = await uow.orders.of_user(deal, ann)
        resident = await uow.users.resident(group, ann)
    assert order is not None and order.point == points["Shop 12"]
    assert resident is not None and resident.point == points["Shop 12"]

    # The map: a venue message, Shop 12's place.
    after = last_id(world, ann)
    await emu.press_button(ann, ann, card.message_id, text="🗺 Map: Shop 12")
    pin = await bot_says(world, ann, after)
    assert pin.service["venue"]["title"] == "Shop 12"
    assert pin.service["venue"]["address"] == "5 Gate Road"
    assert pin.service["location"] == {"latitude": 31.2304, "longitude": 121.4737}

    # The next deal offering Shop 12 gives it to her order without asking.
    second = await publish_one_message(world, olga, group, DEAL.format(title="Mangoes"))
    private_before = last_id(world, ann)
    joined = await emu.press_button(ann, group, second.message_id, data=second.keyboard[0][0][1])
    assert joined.text is not None and "× 1" in joined.text
    async with world.deps.uow() as uow:
        order = await uow.orders.of_user(deal_id_of(second), ann)
    assert order is not None and order.point == points["Shop 12"]
    await asyncio.sleep(0.3)
    assert last_id(world, ann) == private_before  # nothing to ask: no private card

    # Her pickup notice says where, with the opening hours, and the map button.
    await close_now(world, olga, group, post.message_id)
    notice = await bot_says(world, ann, after, "Your order: Lychees", timeout=10)
    assert "Shop 12 (5 Gate Road)" in text_of(notice)
    assert "Open: 9:00-21:00" in text_of(notice)
    assert "🗺 Map: Shop 12" in notice.button_labels()


async def test_a_buyer_with_no_point_before_is_asked_from_the_group(any_world: World) -> None:
    """Joined from the group's post (she has started the bot and has a profile), in a deal
    with several points none of which she chose before: her order card comes in private."""
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    await say(world, olga, group, OFFICE, "Pickup points")
    await say(world, olga, group, SHOP, "Pickup points")
    plain = await publish_one_message(
        world, olga, group, DEAL.format(title="Pears").replace("property office / Shop 12", "Gate")
    )
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    await become_resident(world, ann, group, plain.message_id, plain.keyboard[0][0][1])
    post = await publish_one_message(world, olga, group, DEAL.format(title="Lychees"))
    after = last_id(world, ann)
    await emu.press_button(ann, group, post.message_id, data=post.keyboard[0][0][1])
    card = await bot_says(world, ann, after, "🧾")
    assert "Choose where you collect" in text_of(card)
    assert {"✅ Property office", "📍 Shop 12"} <= set(card.button_labels())


async def test_points_belong_to_their_group(any_world: World) -> None:
    """A leader removes a point of their group; a point of another group is not theirs to
    remove, and a deal there cannot name it."""
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    await say(world, olga, group, OFFICE, "Pickup points")
    listed = await say(world, olga, group, SHOP, "Pickup points")
    mallory, other = await set_up_group(
        world, owner_name="Mallory", title="Other compound", name="Other", buildings="1"
    )
    theirs = await publish_one_message(world, mallory, other, DEAL.format(title="Durian"))
    assert "Pickup: property office / Shop 12" in text_of(theirs)  # as typed: its own place
    async with world.deps.uow() as uow:
        deal = await uow.deals.get(deal_id_of(theirs))
    assert deal is not None and deal.points == ()

    # Olga removes Shop 12: new deals no longer offer it.
    answer = await emu.press_button(olga, group, listed.message_id, text="🗑 Remove Shop 12")
    assert answer.text == "Shop 12 removed: new deals no longer offer it."
    assert list(await _points_of(world, group)) == ["Property office"]
    # Pressed again (a second leader's stale list): a reason, nothing changes.
    [remove_shop] = [data for label, data in listed.keyboard[1] if "Shop 12" in label]
    again = await emu.press_raw(olga, group, listed.message_id, remove_shop)
    assert again.show_alert and "not one of this group's" in (again.text or "")
    assert list(await _points_of(world, group)) == ["Property office"]
    # Mallory, who leads the other group, cannot remove Olga's point from his group or in
    # private: the point is not his group's, and he does not lead Olga's.
    [remove_office] = [data for label, data in listed.keyboard[0] if "Property" in label]
    mine = await say(world, mallory, mallory, "/help")
    for chat, message in ((other, theirs.message_id), (mallory, mine.message_id)):
        refused = await emu.press_raw(mallory, chat, message, remove_office)
        assert refused.show_alert and refused.text, refused
    assert list(await _points_of(world, group)) == ["Property office"]


async def _documents(world: World, leader: int, after: int, count: int) -> list[SentMessage]:
    """The next `count` documents in the leader's private chat."""

    def sent() -> list[SentMessage]:
        return [
            m for m in world.emu.messages(leader) if m.message_id > after and m.document is not None
        ]

    await world.emu.wait_until(lambda: len(sent()) >= count, timeout=15)
    return sent()[:count]


def _pdf_text(world: World, chat: int, message_id: int) -> str:
    reader = PdfReader(io.BytesIO(world.emu.document_bytes(chat, message_id)))
    return "\n".join(page.extract_text() for page in reader.pages)


async def test_lists_and_arrivals_are_split_by_point(any_world: World) -> None:
    """Ann collects at Shop 12, Bob and Cy at the office: each point has its own PDF with its
    orders and picking totals, and its own checklist messages; the CSV names each order's
    point. "Goods arrived" asks which point, and tells that point's buyers only, once."""
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    await say(world, olga, group, OFFICE, "Pickup points")
    await say(world, olga, group, SHOP, "Pickup points")
    post = await publish_one_message(world, olga, group, DEAL.format(title="Lychees"))
    deal = deal_id_of(post)
    users = {}
    for name, room in (("Ann", "101"), ("Bob", "102"), ("Cy", "103")):
        users[name] = await emu.add_user(name)
        await emu.add_member(group, users[name])
        card = await become_resident(
            world, users[name], group, post.message_id, post.keyboard[0][0][1], room=room
        )
        if name == "Ann":
            await emu.press_button(users[name], users[name], card.message_id, text="📍 Shop 12")
    await emu.press_button(users["Bob"], group, post.message_id, data=post.keyboard[0][0][1])
    await close_now(world, olga, group, post.message_id)

    after = last_id(world, olga)
    await emu.send_message(olga, group, "/list")
    office, shop, table = await _documents(world, olga, after, 3)
    assert office.document is not None and shop.document is not None
    assert table.document is not None
    assert office.document.file_name == f"pickup-list-{deal}-1.pdf"
    assert shop.document.file_name == f"pickup-list-{deal}-2.pdf"
    assert "2 orders · 📍 Property office" in text_of(office)
    assert "1 order · 📍 Shop 12" in text_of(shop)
    office_pdf, shop_pdf = (_pdf_text(world, olga, m.message_id) for m in (office, shop))
    assert "Property office, Building 1 lobby" in office_pdf and "Shop 12" not in office_pdf
    assert "Bob" in office_pdf and "Cy" in office_pdf and "Ann" not in office_pdf
    assert "Shop 12, 5 Gate Road" in shop_pdf and "Ann" in shop_pdf and "Bob" not in shop_pdf
    # Picking totals per point: the office hands out Bob's two and Cy's one.
    assert "Lychee 3 kg" in office_pdf.replace("\n", " "), office_pdf
    csv_rows = emu.document_bytes(olga, table.message_id).decode("utf-8-sig").splitlines()
    assert csv_rows[0].endswith(",Pickup point")
    assert {row.split(",")[3]: row.split(",")[-1] for row in csv_rows[1:]} == {
        "Ann": "Shop 12",
        "Bob": "Property office",
        "Cy": "Property office",
    }
    await emu.wait_until(
        lambda: (
            sum("Lychees" in m.text for m in emu.messages(olga) if m.text and "⬜" in m.text) >= 2
        )
    )
    checklist = [
        m.text or ""
        for m in emu.messages(olga)
        if m.message_id > table.message_id and "⬜" in (m.text or "")
    ]
    office_list, shop_list = checklist[:2]
    assert "📍 Property office" in office_list and "Bob" in office_list and "Ann" not in office_list
    assert "📍 Shop 12" in shop_list and "Ann" in shop_list

    # The goods reach Shop 12 first: its buyer is told, the office's are not.
    after_group = last_id(world, group)
    await emu.press_button(olga, group, post.message_id, text="🚚 Goods arrived")
    question = await bot_says(world, group, after_group, "Which pickup point")
    assert question.button_labels() == [
        "🚚 Property office · tell 2 buyers",
        "🚚 Shop 12 · tell 1 buyer",
        "Not yet",
    ]
    before = {name: last_id(world, user) for name, user in users.items()}
    answer = await emu.press_button(
        olga, group, question.message_id, text="🚚 Shop 12 · tell 1 buyer"
    )
    assert answer.text is not None
    told = await bot_says(world, users["Ann"], before["Ann"], "Your goods are here")
    assert "Shop 12 (5 Gate Road)" in text_of(told)
    said = await bot_says(world, group, after_group, "The goods are here")
    assert "Pick them up at Shop 12 (5 Gate Road)" in text_of(said)
    await asyncio.sleep(0.3)
    for name in ("Bob", "Cy"):
        assert not any(
            "Your goods are here" in (m.text or "")
            for m in emu.messages(users[name])
            if m.message_id > before[name]
        )
    # Pressed again under the old question: said already, nobody told twice.
    [shop_data] = [data for row in question.keyboard for label, data in row if "Shop" in label]
    again = await emu.press_raw(olga, group, question.message_id, shop_data)
    assert again.show_alert and "were told the goods are here at" in (again.text or ""), again
    after_group = last_id(world, group)
    await emu.press_button(olga, group, post.message_id, text="🚚 Goods arrived")
    question = await bot_says(world, group, after_group, "Which pickup point")
    assert question.button_labels() == ["🚚 Property office · tell 2 buyers", "Not yet"]
