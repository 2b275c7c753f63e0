"""A real `groupbuy sandbox` subprocess and Debian's Chromium driven by Playwright.

Chromium is never downloaded by Playwright: `.ci/run` installs Debian's package when it is missing;
without it these tests fail (they do not skip) and say how to get it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
ADDRESS = re.compile(r"open (http://\S+)")


@pytest.fixture(scope="module")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`groupbuy sandbox --fresh --port 0` as a subprocess; yields the address it prints."""
    db = tmp_path_factory.mktemp("sandbox") / "sandbox.db"
    command = [
        sys.executable,
        "-m",
        "bot.cli",
        "sandbox",
        "--fresh",
        "--port",
        "0",
        "--db",
        str(db),
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + 60
    url = None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        found = ADDRESS.search(line)
        if found:
            url = found.group(1)
            break
    if url is None:
        proc.kill()
        pytest.fail("the sandbox did not start:\n" + "".join(seen))
    try:
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        assert db.with_name("sandbox.emulator.json").exists(), "the snapshot is saved on exit"


@pytest.fixture(scope="module")
def browser_context() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `apt-get install -y chromium` (.ci/run does it on CI)."
        )
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1200, "height": 760},
            timezone_id="Asia/Shanghai",
            locale="en-GB",
            accept_downloads=True,
        )
        context.set_default_timeout(10_000)
        try:
            yield context
        finally:
            context.close()
