"""Pay the leader, guided: the leader says how to pay (/payee: text and a collection-code
photo), and each buyer sees it with the exact amount they owe, when the order is made, on the
order card, behind a "Collection code" button and on the pickup notice. Only the group's leader
may set it; bad input changes nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.conftest import (
    SKIP,
    World,
    become_resident,
    bot_says,
    last_id,
    publish_one_message,
    say,
    set_up_group,
    start_payload,
    text_of,
)
from tests.e2e.test_live_card import card_says, labels, pay_mode, settled, shown

DEAL = """Title: Oranges
Item: Orange box | box | 50 | 20 | 3
Deadline: tomorrow 20:00
Pickup: Gate 2
Window: Sat 9:00-10:00"""
DETAILS = "WeChat Pay: Olga Li, 138 0000 0000"


async def payee_link(world: World, leader: int, group: int) -> str:
    """/payee in the group: the link to continue in private."""
    pointer = await say(world, leader, group, "/payee", "how neighbours pay you")
    (_, url) = pointer.keyboard[0][0]
    return f"/start {start_payload(url)}"


async def test_buyers_see_whom_to_pay_and_how_much(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    await pay_mode(world, olga, group, "💸 Transfer to the leader")
    chosen = [m for m in emu.messages(group) if "pay the leader by transfer" in (m.text or "")]
    assert "send /payee" in text_of(chosen[-1])  # nothing set yet: the leader is told how

    # The leader sends the collection code with the details as its caption.
    asked = await say(world, olga, olga, await payee_link(world, olga, group), "How do")
    assert "Send your transfer details" in text_of(asked)
    after = last_id(world, olga)
    await emu.send_photo(olga, olga, caption=DETAILS)
    saved = await bot_says(world, olga, after, "Saved")
    assert saved.photo is not None and f"Pay to: {DETAILS}" in text_of(saved)
    assert "/paymode" not in text_of(saved)  # the group already pays the leader

    # Ann joins from the group's post: the code comes with the amount, then her order card.
    post = await publish_one_message(world, olga, group, DEAL)
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    after = last_id(world, ann)
    card = await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
    code = await bot_says(world, ann, after, "Amount to pay")
    assert code.photo == saved.photo and code.message_id < card.message_id
    assert "Amount to pay: CN¥50.00" in text_of(code) and DETAILS in text_of(code)
    assert "To pay the leader: CN¥50.00" in text_of(card)
    assert f"Pay to: {DETAILS}" in text_of(card)
    assert labels(world, ann, card.message_id)[-2:] == ["💸 I have paid", "📷 Collection code"]

    # A second box: the card says the new amount, and so does the code asked for again.
    await emu.press_button(ann, ann, card.message_id, text="+1 Orange box")
    await card_says(world, ann, card.message_id, "To pay the leader: CN¥100.00")
    after = last_id(world, ann)
    answer = await emu.press_button(ann, ann, card.message_id, text="📷 Collection code")
    assert not answer.show_alert
    again = await bot_says(world, ann, after, "Amount to pay")
    assert "CN¥100.00" in text_of(again) and again.photo == saved.photo

    # Bob, already known, joins again from the group: told in private right away.
    bob = await emu.add_user("Bob")
    await emu.add_member(group, bob)
    bob_card = await become_resident(world, bob, group, post.message_id, post.keyboard[0][0][1])
    await emu.press_button(bob, bob, bob_card.message_id, text="Cancel my order")
    after = last_id(world, bob)
    toast = await emu.press_button(bob, group, post.message_id, data=post.keyboard[0][0][1])
    assert toast.text == "Orange box × 1 · total CN¥50.00"
    await bot_says(world, bob, after, "Amount to pay: CN¥50.00")
    fresh = await bot_says(world, bob, after, "🧾")
    assert f"Pay to: {DETAILS}" in text_of(fresh)

    # After the close, the pickup notice says what Ann still owes, whom to pay and how.
    after = last_id(world, ann)
    await world.advance(timedelta(days=2))
    notice = await bot_says(world, ann, after, "Pickup code", timeout=10)
    assert "To pay the leader: CN¥100.00" in text_of(notice)
    assert f"Pay to: {DETAILS}" in text_of(notice)
    assert notice.button_labels() == ["💸 I have paid", "📷 Collection code", "🔁 Order again"]
    await emu.press_button(ann, ann, notice.message_id, text="💸 I have paid")
    await card_says(world, ann, card.message_id, "Waiting for the leader to confirm")
    assert "📷 Collection code" not in labels(world, ann, card.message_id)


async def test_only_the_leader_sets_it_and_bad_input_changes_nothing(any_world: World) -> None:
    world, emu = any_world, any_world.emu
    olga, group = await set_up_group(world)
    link = await payee_link(world, olga, group)
    vera, other = await set_up_group(world, owner_name="Vera", title="Other", name="Other")
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)

    # A neighbour's /payee in the group, and the link opened by her or another group's leader.
    refused = await say(world, ann, group, "/payee")
    assert "Only the group's admins" in text_of(refused)
    for stranger in (ann, vera):
        answer = await say(world, stranger, stranger, link)
        assert "How do" not in text_of(answer)
        after = last_id(world, stranger)
        await emu.send_message(stranger, stranger, "Pay me instead: 999")
        await bot_says(world, stranger, after)  # whatever it is, it is not a saved payee
    async with world.deps.uow() as uow:
        community = await uow.communities.get(group)
    assert community is not None and community.payee == "" and community.payee_photo is None

    # Too long: the reason, nothing saved, and the question still waits for an answer.
    await say(world, olga, olga, link, "How do")
    too_long = await say(world, olga, olga, "x" * 301)
    assert "too long" in text_of(too_long)
    saved = await say(world, olga, olga, DETAILS, "Saved")
    assert f"Pay to: {DETAILS}" in text_of(saved) and saved.photo is None
    assert "/paymode" in text_of(saved)  # the group still pays in cash: how to change it

    # In private, with one group led: straight to its question; Keep changes nothing.
    asked = await say(world, olga, olga, "/payee", "How do")
    assert DETAILS in text_of(asked)
    after = last_id(world, olga)
    await emu.press_button(olga, olga, asked.message_id, data=SKIP)
    assert "Nothing changed" in text_of(await bot_says(world, olga, after))
    asked = await say(world, olga, olga, "/payee", "How do")
    after = last_id(world, olga)
    await emu.press_button(olga, olga, asked.message_id, text="🗑 Remove")
    gone = await bot_says(world, olga, after, "Saved")
    assert "has not said how to pay" in text_of(gone)
    async with world.deps.uow() as uow:
        community = await uow.communities.get(group)
        theirs = await uow.communities.get(other)
    assert community is not None and community.payee == "" and community.payee_photo is None
    assert theirs is not None and theirs.payee == ""


async def test_no_code_shared_means_an_answer_not_a_photo(world: World) -> None:
    emu = world.emu
    olga, group = await set_up_group(world)
    await pay_mode(world, olga, group, "💸 Transfer to the leader")
    await say(world, olga, olga, await payee_link(world, olga, group), "How do")
    after = last_id(world, olga)
    await emu.send_photo(olga, olga)
    await bot_says(world, olga, after, "Saved")
    post = await publish_one_message(world, olga, group, DEAL)
    ann = await emu.add_user("Ann")
    await emu.add_member(group, ann)
    card = await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
    assert "Tap “Collection code” to scan it." in text_of(card)

    # The leader removes it: Ann's card is drawn again without it, and the old button, pressed
    # from a screen that had not caught up, explains instead of failing.
    [old_button] = [d for label, d in card.keyboard[-1] if label == "📷 Collection code"]
    await settled(world, ann, card.message_id)  # nothing else left to redraw it
    asked = await say(world, olga, olga, "/payee", "How do")
    after = last_id(world, olga)
    await emu.press_button(olga, olga, asked.message_id, text="🗑 Remove")
    await bot_says(world, olga, after, "Saved")
    await card_says(world, ann, card.message_id, "has not said how to pay")
    assert "📷 Collection code" not in labels(world, ann, card.message_id)
    answer = await emu.press_raw(ann, ann, card.message_id, old_button)
    assert answer.show_alert and "has not shared a collection code" in text_of(answer)
    assert shown(world, ann, card.message_id).photo is None
