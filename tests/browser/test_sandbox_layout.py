"""The sandbox page as a person uses it on a phone and on a wide screen: one column or two,
nothing wider than the window, toasts clear of the chat's title, a photo sent from the page (a
leader's collection code for /payee) and shown. (A day's separator: test_sandbox_days.py, whose
day passing would close this module's deals.)"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, FloatRect, Page, ViewportSize, expect

from tests.browser.conftest import ARTIFACTS
from tests.browser.pages import be, open_chat, opened

PHONE: ViewportSize = {"width": 390, "height": 844}
WIDE: ViewportSize = {"width": 1366, "height": 800}
# A 1×1 PNG: what the page's file picker would hand over.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture(scope="module")
def page(browser_context: BrowserContext, sandbox_url: str) -> Iterator[Page]:
    yield from opened(browser_context, sandbox_url)


def box(page: Page, selector: str) -> FloatRect:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not shown"
    return found


def fits_the_window(page: Page) -> None:
    wide = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert wide[0] <= wide[1], f"the page is wider than the window: {wide}"


def overlaps(a: FloatRect, b: FloatRect) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def join_and_see_the_toast(page: Page) -> None:
    """A Join press in the group: its toast must leave the chat's title readable."""
    post = page.locator("#messages .msg.in", has_text="Fresh milk").filter(
        has=page.locator("button", has_text="+1")
    )
    post.first.locator("button", has_text="+1").first.click()
    toast = page.locator("#toasts .toast").first
    expect(toast).to_be_visible()
    assert not overlaps(box(page, "#toasts .toast"), box(page, "#chat-title"))


def test_a_phone_shows_one_column_and_a_wide_screen_two(page: Page) -> None:
    page.set_viewport_size(WIDE)
    be(page, "Ann Lee")
    open_chat(page, "group")
    expect(page.locator("#chat-title")).to_contain_text("Sunny Garden")
    side, pane = box(page, "#sidebar"), box(page, "#pane")
    assert side["x"] + side["width"] <= pane["x"] + 1  # side by side
    expect(page.locator("#back")).to_be_hidden()
    fits_the_window(page)
    join_and_see_the_toast(page)
    page.screenshot(path=str(ARTIFACTS / "layout-wide.png"))

    page.set_viewport_size(PHONE)
    expect(page.locator("#pane")).to_be_visible()  # the open chat fills the phone
    expect(page.locator("#sidebar")).to_be_hidden()
    pane = box(page, "#pane")
    assert pane["width"] >= PHONE["width"] - 1
    composer = box(page, "#composer")
    assert composer["y"] + composer["height"] <= PHONE["height"] + 1  # the input is on screen
    fits_the_window(page)
    join_and_see_the_toast(page)
    page.screenshot(path=str(ARTIFACTS / "layout-phone.png"))

    page.locator("#back").click()  # back to the chat list, as on a phone
    expect(page.locator("#sidebar")).to_be_visible()
    expect(page.locator("#pane")).to_be_hidden()
    page.locator("#chats li[data-type=private]").first.click()
    expect(page.locator("#pane")).to_be_visible()
    fits_the_window(page)


def test_a_leader_sends_her_collection_code_from_the_page(page: Page, tmp_path: Any) -> None:
    page.set_viewport_size(PHONE)
    be(page, "Li Na")
    open_chat(page, "group")
    page.fill("#input", "/payee")
    page.press("#input", "Enter")
    last = page.locator("#messages .msg.in").last
    expect(last).to_contain_text("how neighbours pay you")
    last.locator("button", has_text="Continue in private chat").click()
    expect(page.locator("#messages .msg.in").last).to_contain_text("How do neighbours pay you")

    picture = tmp_path / "code.png"
    picture.write_bytes(PNG)
    page.fill("#input", "WeChat Pay: Li Na")
    page.set_input_files("#photo-file", str(picture))
    saved = page.locator("#messages .msg.in").last
    expect(saved).to_contain_text("Pay to: WeChat Pay: Li Na")
    expect(saved.locator("img.photo")).to_be_visible()
    sent = page.locator("#messages .msg.out").last
    expect(sent.locator("img.photo")).to_be_visible()
    expect(sent).to_contain_text("WeChat Pay: Li Na")
    src = sent.locator("img.photo").get_attribute("src") or ""
    assert page.request.get(page.url.rstrip("/") + src).body() == PNG  # the real image, kept
    expect(page.locator("#input")).to_have_value("")
    page.screenshot(path=str(ARTIFACTS / "payee-phone.png"))
