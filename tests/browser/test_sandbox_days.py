"""The sandbox page separates the days of a chat. In a module (and a sandbox) of its own: the
day it lets pass closes the sandbox's deals, which test_sandbox_layout.py presses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.pages import be, open_chat, opened
from tests.browser.test_sandbox_layout import WIDE


@pytest.fixture(scope="module")
def page(browser_context: BrowserContext, sandbox_url: str) -> Iterator[Page]:
    yield from opened(browser_context, sandbox_url)


def test_days_are_separated(page: Page) -> None:
    page.set_viewport_size(WIDE)
    be(page, "Ann Lee")
    open_chat(page, "private")
    page.fill("#input", "/help")
    page.press("#input", "Enter")
    expect(page.locator("#messages .day").last).to_have_text("Today")
    page.locator("[data-advance='86400']").click()
    page.fill("#input", "/myorders")
    page.press("#input", "Enter")
    days = page.locator("#messages .day")
    expect(days.last).to_have_text("Today")
    expect(page.locator("#messages .day", has_text="Yesterday")).to_have_count(1)
