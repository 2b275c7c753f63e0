"""The leaders' scanner (a Telegram Mini App served by the bot): /scan opens it; the page's
request is believed only with init data that Telegram signed with the bot's token, less than a
day old; a leader's scanned pass hands the order out, anyone else's or a forged one changes
nothing. Driven over HTTP against the runtime, the passes read from the emulator's photos."""

from __future__ import annotations

import io
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio
import zxingcpp
from PIL import Image

from sandbox import webapp
from tests.e2e.conftest import (
    TOKEN,
    World,
    answered_privately,
    running_world,
    say,
    text_of,
    three_buyers_closed,
)

DAY = 24 * 3600


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest_asyncio.fixture
async def served(tmp_path: Path) -> AsyncIterator[World]:
    port = _free_port()
    async with running_world(
        tmp_path, public_url=f"http://127.0.0.1:{port}", web_port=port
    ) as world:
        yield world


def init_data(user_id: int, name: str, *, token: str = TOKEN, age: float = 60) -> str:
    """What Telegram hands a Mini App, signed with the bot's token (sandbox.webapp)."""
    return webapp.init_data(token, user_id, name, int(time.time() - age), "en")


async def _verify(world: World, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    url = f"{world.settings.public_url}/app/verify?lang=en"
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as response:
        return response.status, await response.json()


def _pass_of(world: World, user: int) -> str:
    notice = next(m for m in world.emu.messages(user) if "Your order: Lychees" in (m.text or ""))
    image = Image.open(io.BytesIO(world.emu.photo_bytes(user, notice.message_id)))
    [read] = [found.text for found in zxingcpp.read_barcodes(image)]
    return read


async def test_a_leader_scans_passes_from_the_mini_app(served: World) -> None:
    world, emu = served, served.emu
    olga, group, users, codes = await three_buyers_closed(world)
    bob, cy = users["Bob"], users["Cy"]

    opened = await say(world, olga, olga, "/scan", "Pickup scanner")
    [[(label, url)]] = opened.keyboard
    assert label == "📷 Open the scanner"
    assert url == f"{world.settings.public_url}/app/scan?lang=en"
    async with aiohttp.ClientSession() as http, http.get(url) as page:
        html = await page.text()
        assert (
            page.status == 200 and "default-src 'none'" in page.headers["Content-Security-Policy"]
        )
    assert '"scan": "📷 Scan a pickup pass"' in html and "showScanQrPopup" in html

    scanned = _pass_of(world, bob)
    status, answer = await _verify(world, {"init_data": init_data(olga, "Olga"), "text": scanned})
    assert status == 200 and answer["ok"]
    assert f"{codes['Bob']}" in answer["html"] and "picked up" in answer["html"]
    status, again = await _verify(world, {"init_data": init_data(olga, "Olga"), "text": scanned})
    assert "already picked up" in again["html"]

    # A pass made up (Cy's code under Bob's signature): refused, nothing changes.
    forged_pass = scanned.replace(codes["Bob"], codes["Cy"])
    _, refused = await _verify(world, {"init_data": init_data(olga, "Olga"), "text": forged_pass})
    assert "not one I made" in refused["html"]
    # Bob, with a real pass and real init data of his own: he leads nothing.
    _, bobs = await _verify(
        world, {"init_data": init_data(bob, "Bob"), "text": _pass_of(world, cy)}
    )
    assert "picked up" not in bobs["html"]
    listed = await answered_privately(world, olga, group, "/noshows", "Still to pick up")
    assert codes["Cy"] in text_of(listed)  # still waiting

    real = init_data(olga, "Olga")
    forged_data = [
        init_data(olga, "Olga", token="999999:ANOTHER-bots-token-xyz"),  # not our bot's
        real.replace(f"%22id%22%3A{olga}", f"%22id%22%3A{bob}"),  # the user changed
        real.split("&hash=")[0],  # no signature
        "",
    ]
    assert forged_data[1] != real
    for data in forged_data:
        status, body = await _verify(world, {"init_data": data, "text": _pass_of(world, cy)})
        assert (status, body["ok"]) == (403, False), data
        assert "not opened by Telegram for you" in body["error"]
    status, stale = await _verify(
        world, {"init_data": init_data(olga, "Olga", age=DAY + 60), "text": _pass_of(world, cy)}
    )
    assert (status, stale["ok"]) == (403, False) and "over a day ago" in stale["error"]
    status, _ = await _verify(world, {"text": _pass_of(world, cy)})
    assert status == 400

    # None of that handed Cy's order out; Olga's scan does, once.
    status, cys = await _verify(
        world, {"init_data": init_data(olga, "Olga"), "text": _pass_of(world, cy)}
    )
    assert codes["Cy"] in cys["html"] and "picked up" in cys["html"]
    after = [m for m in emu.messages(cy) if m.from_bot]
    assert all("picked up" not in (m.text or "") for m in after)  # the table's, not a message


async def test_without_a_public_address_scan_says_how_to_verify(world: World) -> None:
    olga, _, users, _ = await three_buyers_closed(world)
    answer = await say(world, olga, olga, "/scan", "not set up")
    assert answer.keyboard == [] and "PUBLIC_URL" in text_of(answer)
    refused = await say(world, users["Bob"], users["Bob"], "/scan")
    assert "Only the group's admins" in text_of(refused)
    assert world.settings.public_url == ""
