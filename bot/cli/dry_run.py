"""The rules dry run's work: judging an export chunk by chunk, in one process or several.

The learned stage embeds a chunk of texts in one call, which is most of the speed-up over a
message at a time; on a machine with more than one core, chunks are judged by that many worker
processes (each loads the rules once), a few chunks in flight at a time so memory stays flat.
What is kept is counts and a few examples per rule, never the messages.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import multiprocessing
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import click

from rules import Message, RuleSet, categories_of
from rules.semantic import evaluate_many

Rows = list[tuple[str, str]]


class DryRunTally:
    """What the dry run counts: bounded by the number of rules, not of messages."""

    def __init__(self, examples: int) -> None:
        self.examples = examples
        self.total = self.flagged = 0
        self.hits: collections.Counter[str] = collections.Counter()
        self.samples: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        self.per_category: collections.Counter[str] = collections.Counter()

    def judge(self, ruleset: RuleSet, rows: Rows, channel: str) -> DryRunTally:
        messages = [Message(text=text, channel=channel) for _ident, text in rows]
        for (ident, text), findings in zip(rows, evaluate_many(ruleset, messages), strict=True):
            self.total += 1
            self.flagged += bool(findings)
            self.per_category.update(categories_of(findings))
            for f in findings:
                self.hits[f.rule] += 1
                if len(self.samples[f.rule]) < self.examples:
                    self.samples[f.rule].append(
                        {"id": ident, "excerpt": excerpt(text, f.span), "score": f.score}
                    )
        return self

    def add(self, other: DryRunTally) -> None:
        """Count another chunk's tally in, keeping the first examples in file order."""
        self.total += other.total
        self.flagged += other.flagged
        self.hits.update(other.hits)
        self.per_category.update(other.per_category)
        for rule, found in other.samples.items():
            kept = self.samples[rule]
            kept.extend(found[: max(0, self.examples - len(kept))])


def judge_export(
    chunks: Iterable[Rows],
    ruleset: RuleSet,
    load: Callable[[], RuleSet],
    *,
    channel: str,
    examples: int,
    jobs: int,
) -> DryRunTally:
    """The tally of every chunk, judged here with `ruleset` or, when there are more chunks
    than a worker's start-up is worth, by `jobs` worker processes that each call `load`."""
    tally = DryRunTally(examples)
    chunks = iter(chunks)
    first = list(itertools.islice(chunks, jobs * 4))
    if jobs <= 1 or len(first) < jobs * 4:  # a small export: starting workers costs more
        for rows in itertools.chain(first, chunks):
            tally.judge(ruleset, rows, channel)
        return tally
    chunks = itertools.chain(first, chunks)
    # spawn, not fork: onnxruntime's threads do not survive a fork, and each worker should
    # build its own rules and model once rather than inherit a half-copied one.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_load, initargs=(load,)) as pool:
        waiting: collections.deque[Future[DryRunTally]] = collections.deque()
        for rows in chunks:
            waiting.append(pool.submit(_judge, rows, channel, examples))
            if len(waiting) >= jobs * 3:  # a few chunks ahead of the workers, never the file
                tally.add(waiting.popleft().result())
        while waiting:
            tally.add(waiting.popleft().result())
    return tally


_worker_rules: RuleSet | None = None


def _load(load: Callable[[], RuleSet]) -> None:
    global _worker_rules
    _worker_rules = load()


def _judge(rows: Rows, channel: str, examples: int) -> DryRunTally:
    assert _worker_rules is not None, "worker started without its rules"
    return DryRunTally(examples).judge(_worker_rules, rows, channel)


def chunked(rows: Iterable[tuple[str, str]], size: int) -> Iterator[Rows]:
    pending: Rows = []
    for row in rows:
        pending.append(row)
        if len(pending) >= size:
            yield pending
            pending = []
    if pending:
        yield pending


@contextlib.contextmanager
def progress(file: Path, *, show: bool) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr by bytes read (rows are not counted up front); or nothing."""
    if not show:
        yield lambda _n: None
        return
    with click.progressbar(
        length=file.stat().st_size, label="dry run", file=sys.stderr, show_percent=True
    ) as bar:
        yield bar.update


def excerpt(text: str, span: tuple[int, int] | None, width: int = 50) -> str:
    if span is None:
        return text[: width * 2].replace("\n", " ")
    start, end = span
    left = max(0, start - width)
    snippet = f"{text[left:start]}[[{text[start:end]}]]{text[end : end + width]}"
    return (
        ("..." if left else "")
        + snippet.replace("\n", " ")
        + ("..." if end + width < len(text) else "")
    )
