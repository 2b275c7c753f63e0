"""Every benchmark's --quick mode runs to the end, so the programs never rot.

They print figures and never fail on time; a quick run fails only when a program breaks or finds
a correctness problem (oversold units, unanswered presses, lost or duplicated notices). The
programs run two at a time (each has a bot process of its own) to keep this under a minute.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# program (and its arguments) -> lines its quick run must print
EXPECTED: dict[str, tuple[str, ...]] = {
    "join_burst": ("Figure 1", "joins per second", "oversold units", "Bot API calls per join"),
    "join_latency": ("Figure 2", "p99 press->answer ms"),
    "closing": ("Figure 3", "growth exponent: /list", "presses meanwhile"),
    "fanout": ("Figure 4", "private notices per second", "lost / duplicated"),
    "fanout --notice arrival": ("arrival notices to", "group notices", "lost / duplicated"),
    "verify_latency": ("p99 ✓ press->answer ms", "verified / handed out / asked"),
    "memory": ("Figure 5", "peak RSS (VmHWM) MB"),
    "press_cost": ("SQL statements per press",),
    "stack_cost": ("CPU a press through SQLAlchemy", "over the floor's"),
}


def _start(name: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    program, *arguments = name.split()
    return subprocess.Popen(
        [sys.executable, "-m", f"bench.{program}", "--quick", *arguments],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_every_benchmark_runs_quick() -> None:
    pending = list(EXPECTED)
    running: dict[str, subprocess.Popen[str]] = {}
    outputs: dict[str, tuple[int, str]] = {}
    deadline = time.monotonic() + 300
    while pending or running:
        while pending and len(running) < 2:
            name = pending.pop(0)
            running[name] = _start(name)
        for name, proc in list(running.items()):
            if proc.poll() is not None:
                out, _ = proc.communicate()
                outputs[name] = (proc.returncode, out)
                del running[name]
        if time.monotonic() > deadline:
            for proc in running.values():
                proc.kill()
            raise AssertionError(f"benchmarks still running after 300 s: {list(running)}")
        time.sleep(0.1)
    for name, (code, out) in outputs.items():
        assert code == 0, f"bench.{name} --quick exited {code}:\n{out[-4000:]}"
        for line in EXPECTED[name]:
            assert line in out, f"bench.{name} --quick did not print {line!r}:\n{out[-4000:]}"
