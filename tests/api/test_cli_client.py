"""`badapple generate` as a client of the API: provider flags and the dry-run estimate, in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

CLI = [sys.executable, "-c", "from badapple_dagster.cli import main; raise SystemExit(main())"]
BRIEF = ["--product-name", "Volt Energy Drink", "--style", "energetic", "--cta", "Grab yours today"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


def test_dry_run_prints_the_estimate_table(quiet_api: Any) -> None:
    res = run("generate", *BRIEF, "--api", quiet_api.url, "--dry-run", "--video-provider", "replicate,local",
              "--script-provider", "openai:gpt-4o-mini")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["stage", "provider", "cost", "$", "seconds"]
    video = next(ln for ln in lines if ln.startswith("video_gen"))
    assert "replicate:minimax/video-01" in video and float(video.split()[-2]) > 0
    assert lines[-1].startswith("no API key on the server for:") or lines[-1].startswith("total")


def test_a_provider_typo_fails_before_anything_is_sent(quiet_api: Any) -> None:
    res = run("generate", *BRIEF, "--api", quiet_api.url, "--video-provider", "runway")
    assert res.returncode != 0 and "unknown video provider 'runway'" in res.stderr
