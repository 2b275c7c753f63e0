"""A long answer holds up nothing. A pickup list is a PDF, a CSV and its checklist, sent to the
leader at a private chat's pace (Telegram's: about one message a second; a 10,000-order list
is 336 messages, minutes of sending). The update that asked for it is done, and confirmed to
Telegram, as soon as it is answered; the list follows in the background. Were it sent while
the update was still being handled, the leader's own next presses would wait for all of it
(a person's updates are handled one at a time), and so would everyone's past the 99 updates
Telegram hands out beyond the oldest one not confirmed (bot/polling.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sandbox.views import SentMessage
from tests.e2e.conftest import (
    become_resident,
    bot_says,
    deal_id_of,
    last_id,
    publish_one_message,
    running_world,
    set_up_group,
)
from tests.e2e.test_live_lists import DEAL


async def test_a_list_on_its_way_holds_up_neither_the_leader_nor_telegrams_queue(
    tmp_path: Path,
) -> None:
    async with running_world(tmp_path, private_per_second=1) as world:
        emu = world.emu
        olga, group = await set_up_group(world)
        post = await publish_one_message(world, olga, group, DEAL)
        ann = await emu.add_user("Ann")
        await emu.add_member(group, ann)
        await become_resident(world, ann, group, post.message_id, post.keyboard[0][0][1])
        await world.advance(timedelta(days=2))
        await bot_says(world, group, post.message_id, "Pickup notice: Oranges", timeout=10)

        after = last_id(world, olga)
        await emu.send_message(olga, group, "/list")
        asked = emu.state.last_update_id
        checklist: list[SentMessage] = []

        def checklist_sent() -> bool:
            checklist[:] = [
                m for m in emu.messages(olga) if m.message_id > after and "⬜" in (m.text or "")
            ]
            return bool(checklist)

        # The PDF, the CSV, then the checklist: a second apart at least, at one a second.
        await emu.wait_until(lambda: asked in emu.state.confirmed, timeout=10)
        assert not checklist_sent(), "/list was confirmed only once its whole answer was sent"
        # The leader's next press is answered while the list is still on its way.
        answer = await emu.press_raw(olga, group, post.message_id, post.keyboard[0][0][1])
        assert answer.text, answer
        assert not checklist_sent(), "the leader's press waited for the list to be sent"

        # And the list arrives whole, in order.
        await bot_says(world, olga, after, "⬜", timeout=10)
        sent = [m for m in emu.messages(olga) if m.message_id > after and m.from_bot]
        names = [m.document.file_name if m.document else "text" for m in sent]
        deal = deal_id_of(post)
        assert names == [f"pickup-list-{deal}.pdf", f"pickup-list-{deal}.csv", "text"], names
