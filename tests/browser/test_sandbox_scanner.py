"""The leaders' scanner in the sandbox: a buyer's pickup notice is a QR image that decodes to
their signed pass, and the leader's 📷 button opens the Mini App page with init data the sandbox
signed as Telegram would; its scanner (the sandbox's stand-in for the phone's camera) offers the
passes in the chats, and scanning Ann's hands her order out. In a module (and a sandbox) of its
own: the day it lets pass closes the demo's deal."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urljoin

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.pages import be, last_bot, open_chat, opened
from tests.browser.test_sandbox_layout import WIDE


@pytest.fixture(scope="module")
def page(browser_context: BrowserContext, sandbox_url: str) -> Iterator[Page]:
    yield from opened(browser_context, sandbox_url)


def _decoded(page: Page, src: str) -> str:
    """The QR code in the image at `src` (as the page shows it), read like a phone would."""
    import io

    response = page.request.get(src)
    assert response.ok, response.status
    [text] = [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(response.body())))]
    return text


def test_a_leader_scans_a_pass_from_the_mini_app(page: Page, sandbox_url: str) -> None:
    page.set_viewport_size(WIDE)
    for _ in range(2):  # past the demo deal's deadline ("tomorrow 20:00"): it closes
        page.locator("[data-advance='86400']").click()
    be(page, "Ann Lee")
    open_chat(page, "private")
    notice = page.locator("#messages .msg.in", has_text="Your order: Fresh milk").last
    expect(notice.locator("img.photo")).to_have_count(1)
    src = notice.locator("img.photo").get_attribute("src")
    assert src is not None
    signed = _decoded(page, urljoin(sandbox_url, src))
    assert signed.startswith("GB1.")

    be(page, "Li Na")
    open_chat(page, "private")
    page.fill("#input", "/scan")
    page.press("#input", "Enter")
    expect(last_bot(page)).to_contain_text("scan")
    with page.context.expect_page() as opening:
        last_bot(page).locator("button", has_text="Open the scanner").click()
    app = opening.value
    errors: list[str] = []
    app.on("pageerror", lambda e: errors.append(str(e)))
    app.wait_for_url("**/app/scan**")  # opened at the click, then given its address
    app.wait_for_load_state()
    assert app.url.startswith(sandbox_url.rstrip("/") + "/app/scan")
    assert "#tgWebAppData=" in app.url
    scan = app.locator("#scan")
    expect(scan).to_be_enabled()
    scan.click()
    offered = app.locator("#tg-scan-popup button", has_text="Ann")
    expect(offered).to_have_count(1)
    assert signed[:28] in (offered.text_content() or "")
    offered.click()
    answer = app.locator("#answers .answer").first
    expect(answer).to_contain_text("Fresh milk")
    expect(answer).to_contain_text("Ann")
    # Scanned again: already handed out, when and by whom.
    scan.click()
    app.locator("#tg-scan-popup button", has_text="Ann").click()
    expect(app.locator("#answers .answer").first).to_contain_text("already picked up")
    assert not errors, errors
    app.close()
