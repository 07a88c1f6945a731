"""`haven rules dry-run`: streamed, chunked, in parallel when worth it, timed, with a progress bar
on a terminal only."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from bot.cli.exports import export_rows
from bot.cli.rules import rules
from tests.helpers import REPO

COMMENTS = [
    "I want to end it all",
    "Great day thanks",
    "email me jo@example.com",
    "call me on 07700 900123",
    "Is the Tuesday group still on?",
]


def _jsonl(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "comments.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for n in range(count):
            handle.write(json.dumps({"id": f"c{n}", "text": COMMENTS[n % len(COMMENTS)]}) + "\n")
    return path


def test_dry_run_reports_its_time_and_pace(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, 10)
    text = CliRunner().invoke(rules, ["dry-run", str(path), "--jobs", "1"])
    assert text.exit_code == 0, text.output
    report = json.loads(CliRunner().invoke(rules, ["dry-run", str(path), "--json"]).output)
    assert report["messages"] == 10 and report["seconds"] > 0
    assert report["messages_per_second"] > 0
    assert 0 < report["flagged"] < 10  # "Great day thanks" is not a finding
    assert f"10 messages, {report['flagged']} flagged" in text.output
    assert text.output.rstrip().splitlines()[-1].startswith("10 messages in ")
    assert text.output.rstrip().endswith("a second)")


def test_an_export_is_read_a_line_at_a_time_whatever_it_holds(tmp_path: Path) -> None:
    csv_path = tmp_path / "export.csv"
    # Excel's byte-order mark, a comment over two lines and a character split by no line.
    csv_path.write_bytes('\ufeffid,message\n1,"two\nlines"\n2,caf\u00e9 \U0001f600\n'.encode())
    read: list[int] = []
    rows = list(export_rows(csv_path, read.append))
    assert rows == [("1", "two\nlines"), ("2", "caf\u00e9 \U0001f600")]
    assert sum(read) == csv_path.stat().st_size  # what the progress bar counts


def test_parallel_workers_find_what_one_process_finds(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, 40)
    answers = [
        json.loads(
            CliRunner()
            .invoke(rules, ["dry-run", str(path), "--json", "--chunk", "2", "--jobs", jobs])
            .output
        )
        for jobs in ("1", "2")
    ]
    for report in answers:
        del report["seconds"], report["messages_per_second"]
    assert answers[0] == answers[1]
    # Every fifth comment is the same text, so the counts come in fours of the first ten's.
    ten = json.loads(
        CliRunner().invoke(rules, ["dry-run", str(_jsonl(tmp_path, 10)), "--json"]).output
    )
    assert answers[0]["messages"] == 40 and answers[0]["flagged"] == 4 * ten["flagged"]


def _on_a_terminal(*args: str) -> str:
    """Run `haven rules dry-run` with stderr on a pseudo-terminal; what it drew there."""
    main, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "rules", "dry-run", *args],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=secondary, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(secondary)
    drawn = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal closes when the process exits
            break
        if not chunk:
            break
        drawn += chunk
    assert process.wait(120) == 0
    os.close(main)
    return drawn.decode(errors="replace")


def test_a_progress_bar_on_a_terminal_unless_quiet(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, 20)
    assert "dry run" in (drawn := _on_a_terminal(str(path), "--jobs", "1")) and "100%" in drawn
    assert "dry run" not in _on_a_terminal(str(path), "--jobs", "1", "--quiet")
