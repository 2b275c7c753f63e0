"""PUBLIC_URL: Telegram opens the leaders' scanner only from HTTPS, so nothing else is taken,
but for the sandbox and the tests on this machine."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot import mini_app
from bot.settings import Settings


def _settings(url: str) -> Settings:
    return Settings(public_url=url, _env_file=None)  # type: ignore[call-arg]


def test_https_and_this_machine_are_taken_and_the_scanner_is_there() -> None:
    assert _settings("https://groupbuy.example.com/").public_url == "https://groupbuy.example.com"
    assert _settings("http://127.0.0.1:8080").public_url == "http://127.0.0.1:8080"
    assert mini_app.address(_settings("https://g.example.com").public_url) == (
        "https://g.example.com/app/scan"
    )
    assert mini_app.address(_settings("").public_url) == ""  # no address: no scanner


@pytest.mark.parametrize(
    "url", ["http://groupbuy.example.com", "ftp://127.0.0.1", "groupbuy.example.com"]
)
def test_anything_telegram_would_not_open_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="PUBLIC_URL must be https"):
        _settings(url)
