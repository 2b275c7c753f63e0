"""The user guides' walk-through, played on a phone-sized sandbox page: each step the guides
describe (docs/guide/) happens as written, and its screenshot is taken. The pictures go to
test-artifacts/browser/guide/; with UPDATE_SCREENSHOT=1 they replace docs/img/guide/ (take them
on a machine with CJK and emoji fonts: Debian's fonts-noto-cjk and fonts-noto-color-emoji)."""

from __future__ import annotations

import io
import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, ViewportSize, expect

from tests.browser.conftest import ARTIFACTS
from tests.browser.pages import be, last_bot, open_chat, opened, say, to_the_list

PHONE: ViewportSize = {"width": 390, "height": 760}
SHOTS = ARTIFACTS / "guide"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "img" / "guide"


def collection_code() -> bytes:
    """A stand-in for a leader's collection code (收款码): a QR-like pattern on a green card,
    drawn with Pillow (which fpdf2 brings)."""
    from PIL import Image, ImageDraw

    cells, cell = 21, 8
    card = Image.new("RGB", (cells * cell + 48, cells * cell + 48), (26, 173, 25))
    draw = ImageDraw.Draw(card)
    draw.rectangle((16, 16, card.width - 17, card.height - 17), fill="white")
    rng = random.Random(7)
    for row in range(cells):
        for col in range(cells):
            finder = any(
                r <= row < r + 7 and c <= col < c + 7
                for r, c in ((0, 0), (0, cells - 7), (cells - 7, 0))
            )
            ring = finder and (
                row in (0, 6, cells - 7, cells - 1)
                or col in (0, 6, cells - 7, cells - 1)
                or (2 <= row % (cells - 7) <= 4 and 2 <= col % (cells - 7) <= 4)
            )
            if ring or (not finder and rng.random() < 0.45):
                x, y = 24 + col * cell, 24 + row * cell
                draw.rectangle((x, y, x + cell - 1, y + cell - 1), fill="black")
    out = io.BytesIO()
    card.save(out, format="PNG")
    return out.getvalue()


DEAL = """/newdeal
Title: Sweet oranges
Item: Orange box | box | 45 | 30 | 3
Deadline: fri 8pm
Minimum: 2 people
Pickup: Gate 2
Window: Sat 9:00-10:00"""


@pytest.fixture(scope="module")
def page(browser_context: BrowserContext, sandbox_url: str) -> Iterator[Page]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield from opened(browser_context, sandbox_url, PHONE)


def shot(page: Page, name: str, *, toasts: bool = False) -> None:
    """`toasts`: keep the answers to presses on the picture (otherwise cleared first)."""
    if not toasts:
        quiet(page)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    if os.environ.get("UPDATE_SCREENSHOT"):
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS / path.name)


def quiet(page: Page) -> None:
    page.locator("#toasts").evaluate("box => box.replaceChildren()")


def test_the_guides_walk_through(page: Page, tmp_path: Path) -> None:
    # --- the leader: how neighbours pay, her details, a deal --------------------------------
    be(page, "Li Na")
    open_chat(page, "group")
    say(page, "/paymode", "How do neighbours pay")
    last_bot(page).locator("button", has_text="Transfer to the leader").click()
    expect(last_bot(page)).to_contain_text("send /payee")
    say(page, "/payee", "how neighbours pay you")
    last_bot(page).locator("button", has_text="Continue in private chat").click()
    expect(last_bot(page)).to_contain_text("How do neighbours pay you")
    code = tmp_path / "code.png"
    code.write_bytes(collection_code())
    page.fill("#input", "WeChat Pay or Alipay: Li Na, 138 0000 0000")
    page.set_input_files("#photo-file", str(code))
    expect(last_bot(page)).to_contain_text("Pay to: WeChat Pay or Alipay: Li Na")
    shot(page, "leader-payee")

    open_chat(page, "group")
    say(page, "/newdeal", "Let's prepare the deal in private chat.")
    open_chat(page, "group")
    page.fill("#input", DEAL)
    page.press("#input", "Enter")
    post = page.locator("#messages .msg.in", has_text="Sweet oranges").filter(
        has=page.locator("button", has_text="Join")
    )
    expect(post).to_have_count(1)
    open_chat(page, "private")
    expect(last_bot(page)).to_contain_text("“Sweet oranges” is open in")
    expect(last_bot(page)).to_contain_text("Ordering closes Fri")
    shot(page, "leader-published")

    # --- a neighbour joins and pays the leader ----------------------------------------------
    be(page, "Ann Lee")
    open_chat(page, "group")
    post.first.locator("button", has_text="Join").click()
    expect(page.locator("#toasts .toast", has_text="Orange box × 1")).to_be_visible()
    shot(page, "resident-join", toasts=True)
    open_chat(page, "private")
    card = page.locator("#messages .msg.in", has_text="Sweet oranges").filter(
        has=page.locator("button", has_text="I have paid")
    )
    expect(card.last).to_contain_text("Pay to: WeChat Pay or Alipay: Li Na")
    expect(page.locator("#messages .msg.in img.photo").last).to_be_visible()
    shot(page, "resident-card")
    card.last.locator("button", has_text="I have paid").click()
    expect(last_bot(page)).to_contain_text("The leader will confirm it")

    be(page, "王芳")
    open_chat(page, "group")
    zh_post = page.locator("#messages .msg.in", has_text="Sweet oranges").filter(
        has=page.locator("button", has_text="+1")
    )
    zh_post.first.locator("button", has_text="+1").first.click()
    open_chat(page, "private")
    expect(last_bot(page)).to_contain_text("收款方式")
    shot(page, "resident-card-zh")

    # --- the leader confirms, the deal closes, she hands out at the table --------------------
    be(page, "Li Na")
    open_chat(page, "group")
    page.fill("#input", "/payments")
    page.press("#input", "Enter")
    open_chat(page, "private")
    claims = page.locator("#messages .msg.in", has_text="To confirm").last
    expect(claims).to_be_visible()
    shot(page, "leader-payments")
    claims.locator("button", has_text="paid").first.click()
    to_the_list(page)  # the sandbox's clock is there
    for _ in range(8):  # past Friday evening, whatever day (and hour) the guide is played on
        page.locator("[data-advance='86400']").click()
        expect(page.locator("[data-advance='86400']")).not_to_have_class("busy")
    open_chat(page, "group")
    expect(
        page.locator("#messages .msg.in", has_text="Pickup notice: Sweet oranges")
    ).to_have_count(1, timeout=15_000)
    shot(page, "group-pickup-notice")
    page.fill("#input", "/list")
    page.press("#input", "Enter")
    open_chat(page, "private")
    checklist = page.locator("#messages .msg.in", has_text="Sweet oranges").filter(
        has=page.locator("button", has_text="✓")
    )
    expect(checklist.last).to_be_visible()
    shot(page, "leader-checklist")
