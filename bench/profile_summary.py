"""Summarize a py-spy raw (collapsed stacks) profile: where the bot process spends its time.

    .venv/bin/python -m bench.profile_summary /tmp/burst.txt [--top 30]

Prints, per thread, the share of samples by function inclusive of callees (file:function) and by
library (the first path component under site-packages, or the project's top-level package).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
PROJECT = ("bot", "handlers", "groupbuy", "storage", "messages", "sandbox")


def _where(path: str) -> tuple[str, str]:
    """(short file path, library) for a frame's file."""
    p = path.replace("\\", "/")
    if "site-packages/" in p:
        rest = p.split("site-packages/", 1)[1]
        return rest, rest.split("/", 1)[0]
    for pkg in PROJECT:
        marker = f"/{pkg}/"
        if marker in p:
            rest = pkg + "/" + p.split(marker, 1)[1]
            return rest, f"[{pkg}]"
    if "/lib/python3" in p:
        rest = p.split("/lib/python3", 1)[1].split("/", 1)[-1]
        return rest, "stdlib:" + rest.split("/", 1)[0].removesuffix(".py")
    return p, p


def by_library(profiler: cProfile.Profile, wall: float) -> None:
    """Own time (cProfile tottime) per library and the top functions, as shares of the wall time
    of the presses (on SQLite, time the event loop waits for the aiosqlite thread shows up in
    select/epoll)."""
    stats = pstats.Stats(profiler)
    libs: Counter[str] = Counter()
    funcs: Counter[str] = Counter()
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (file, line, name), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        short, lib = _where(file)
        libs[lib] += tottime
        funcs[f"{short}:{line}:{name}"] += tottime
    print(f"  own time by library (cProfile, share of {wall:.2f} s wall time):")
    for lib, t in libs.most_common(12):
        print(f"    {100 * t / wall:5.1f}%  {lib}")
    print("  own time, top functions:")
    for name, t in funcs.most_common(15):
        print(f"    {100 * t / wall:5.1f}%  {name}")


def summarize(path: Path, top: int = 30) -> None:
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    by_thread: dict[str, Counter[str]] = defaultdict(Counter)
    libs: dict[str, Counter[str]] = defaultdict(Counter)
    leaf_libs: dict[str, Counter[str]] = defaultdict(Counter)
    totals: Counter[str] = Counter()
    for line in lines:
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread = "main"
        funcs: list[tuple[str, str]] = []
        for frame in frames:
            if frame.startswith("process "):
                continue
            if frame.startswith("thread "):
                thread = frame
                continue
            m = _FRAME.match(frame)
            if m is None:
                continue
            short, lib = _where(m.group("file"))
            funcs.append((f"{short}:{m.group('func')}", lib))
        if not funcs:
            continue
        totals[thread] += count
        for name in {f for f, _ in funcs}:
            by_thread[thread][name] += count
        for lib in {lb for _, lb in funcs}:
            libs[thread][lib] += count
        leaf_libs[thread][funcs[-1][1]] += count
    if not totals:
        print(f"profile {path}: no samples (is py-spy installed and allowed to attach?)")
        return
    print(f"Profile of the bot process ({path}): share of busy samples")
    for thread, total in totals.most_common():
        print(f"\n  {thread}: {total} samples")
        print("    by library, inclusive | self (leaf frame):")
        for lib, c in libs[thread].most_common(14):
            own = 100 * leaf_libs[thread][lib] / total
            print(f"      {100 * c / total:5.1f}% | {own:5.1f}%  {lib}")
        print("    by function, inclusive:")
        for name, c in by_thread[thread].most_common(top):
            print(f"      {100 * c / total:5.1f}%  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    summarize(args.path, args.top)


if __name__ == "__main__":
    main()
