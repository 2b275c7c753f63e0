"""The `groupbuy` command: a bad token is one clear line; migrate builds the schema."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def groupbuy(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "DATABASE_URL")}
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=tmp_path,  # no .env here
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("token", "words"),
    [("", "BOT_TOKEN is not set"), ("not-a-token", "does not look like a bot token")],
)
def test_bad_token_is_one_clear_line(tmp_path: Path, token: str, words: str) -> None:
    result = groupbuy(tmp_path, "run", BOT_TOKEN=token)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_bad_setting_is_one_clear_line(tmp_path: Path) -> None:
    result = groupbuy(tmp_path, "run", BOT_TOKEN="1:x", DEFAULT_LOCALE="fr")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "default_locale" in (result.stderr + result.stdout).lower()


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    db = tmp_path / "gb.db"
    result = groupbuy(tmp_path, "migrate", DATABASE_URL=f"sqlite+aiosqlite:///{db}")
    assert result.returncode == 0, result.stderr
    tables = {r[0] for r in sqlite3.connect(db).execute("select name from sqlite_master")}
    assert {"communities", "deals", "items", "orders", "order_lines", "outbox"} <= tables


def test_every_bad_setting_is_named_in_one_line(tmp_path: Path) -> None:
    result = groupbuy(tmp_path, "run", BOT_TOKEN="1:x", SWEEP_SECONDS="-1", POST_EDIT_INTERVAL="x")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "SWEEP_SECONDS" in lines[0] and "POST_EDIT_INTERVAL" in lines[0]


@pytest.mark.parametrize("command", [[], ["run"], ["migrate"], ["backup"], ["sandbox"]])
def test_help_says_what_a_command_does_with_an_example(tmp_path: Path, command: list[str]) -> None:
    result = groupbuy(tmp_path, *command, "--help")
    assert result.returncode == 0, result.stderr
    assert "examples:" in result.stdout
    assert f"groupbuy {command[0] if command else 'sandbox'}" in result.stdout.split("examples:")[1]
