"""What a person does on the sandbox page, on a wide screen or a phone (where the chat list and
a chat take turns): the browser tests' shared steps."""

from __future__ import annotations

from collections.abc import Iterator

from playwright.sync_api import BrowserContext, Locator, Page, ViewportSize, expect


def opened(
    context: BrowserContext, url: str, viewport: ViewportSize | None = None
) -> Iterator[Page]:
    """A new tab on the sandbox, loaded; on leaving, no script error may have happened."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    if viewport is not None:
        page.set_viewport_size(viewport)
    page.goto(url)
    expect(page.locator("#persona option")).not_to_have_count(0)
    yield page
    assert not errors, errors
    page.close()


def to_the_list(page: Page) -> None:
    """On a phone showing a chat: back to the chat list (the persona switch and the clock)."""
    if page.locator("#sidebar").is_hidden():
        page.locator("#back").click()


def be(page: Page, name: str) -> None:
    to_the_list(page)
    value = page.locator("#persona option", has_text=name).first.get_attribute("value")
    assert value is not None
    page.select_option("#persona", value)
    expect(page.locator("#persona")).to_have_value(value)


def open_chat(page: Page, kind: str) -> None:
    to_the_list(page)
    page.locator(f"#chats li[data-type={kind}]").first.click()
    expect(page.locator(f"#chats li.active[data-type={kind}]")).to_have_count(1)


def last_bot(page: Page) -> Locator:
    return page.locator("#messages .msg.in").last


def say(page: Page, text: str, reply: str) -> None:
    page.fill("#input", text)
    page.press("#input", "Enter")
    expect(last_bot(page)).to_contain_text(reply)
