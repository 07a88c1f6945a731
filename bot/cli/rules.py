"""`haven classify` and `haven rules test`: the rules engine from the command line.

Both commands use the same engine and config as the running bot. They are plain click objects;
bot/cli/__init__.py registers them on the `haven` group.
"""

from __future__ import annotations

import functools
import io
import json
import os
import select
import sys
import time
from pathlib import Path
from typing import Any

import click

from bot.cli.common import CONFIG_OPTION
from bot.cli.dry_run import chunked, judge_export, progress
from bot.cli.exports import export_rows
from bot.config import ConfigError, load_settings
from bot.semantic import detection_ruleset
from rules import (
    Attachment,
    Finding,
    Message,
    RuleError,
    RuleSet,
    categories_of,
)
from rules.model import CHANNELS
from rules.semantic import evaluate_many

# Messages judged together: large enough that the learned stage's one embedding call per
# chunk pays off, small enough that a chunk's texts are a few hundred kilobytes at most.
DRY_RUN_CHUNK = 64
# Each process holds the rules and the model (about 350 MB with the learned stage).
DRY_RUN_MAX_JOBS = 8


def _ruleset(config_path: str | None = None, explain_words: bool | None = None) -> RuleSet:
    """The running bot's ruleset: the `rules:` section of its validated config.yaml, with the
    learned stage when it is installed and enabled. `explain_words` overrides whether each
    finding names the words that weighed most (a few extra embeddings per finding)."""
    rules_config = load_settings(config_path).config.rules
    if explain_words is not None:
        data = rules_config.model_dump(exclude_unset=True)
        data.setdefault("semantic", {})["explain_words"] = explain_words
        rules_config = type(rules_config).model_validate(data)
    return detection_ruleset(rules_config)


def _load_or_exit(config_path: str | None, explain_words: bool | None = None) -> RuleSet:
    try:
        return _ruleset(config_path, explain_words)
    except (ConfigError, RuleError, ValueError, OSError, RuntimeError) as exc:
        raise click.ClickException(f"cannot load rules: {exc}") from exc


def finding_json(finding: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "category": finding.category,
        "rule": finding.rule,
        "severity": finding.severity,
        "score": finding.score,
        "span": list(finding.span) if finding.span else None,
    }
    if finding.explanation is not None:
        # An extra key (DESIGN's keys are unchanged): why the semantic stage fired.
        out["explanation"] = finding.explanation.as_json()
    return out


def message_from_json(obj: Any) -> Message:
    """Build a Message from one classify input object; ValueError says what is wrong."""
    if not isinstance(obj, dict):
        raise ValueError("each line must be a JSON object")
    text = obj.get("text")
    if not isinstance(text, str):
        raise ValueError("'text' must be a string")
    channel = obj.get("channel", "fb_comment")
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    raw_attachments = obj.get("attachments") or []
    if not isinstance(raw_attachments, list):
        raise ValueError("'attachments' must be a list")
    attachments = []
    for item in raw_attachments:
        if isinstance(item, str):
            attachments.append(Attachment(type=item))
        elif isinstance(item, dict) and isinstance(item.get("type"), str):
            url = item.get("url")
            attachments.append(
                Attachment(type=item["type"], url=url if isinstance(url, str) else None)
            )
        else:
            raise ValueError("attachments are strings or objects with a 'type'")
    from_page = obj.get("from_page", False)
    if not isinstance(from_page, bool):
        raise ValueError("'from_page' must be true or false")
    author = obj.get("author_id")
    return Message(
        text=text,
        channel=channel,
        platform="instagram" if channel.startswith("ig_") else "facebook",
        attachments=tuple(attachments),
        from_page=from_page,
        author_id=str(author) if author is not None else None,
    )


@click.command("classify")
@CONFIG_OPTION
@click.option(
    "--batch",
    type=click.IntRange(1, 1024),
    default=None,
    help="Lines classified together at most (the semantic stage embeds them in one call); "
    "default 32, or 1 when stdin is a terminal. A batch is answered as soon as no more input "
    "is waiting, so a program writing one line and waiting for its answer is never stalled.",
)
@click.option(
    "--explain/--no-explain",
    default=False,
    show_default=True,
    help="Name, in each learned finding's explanation, the words that weighed most "
    "(slower: a few extra embeddings per finding).",
)
def classify(config_path: str | None, batch: int | None, explain: bool) -> None:
    """Classify JSONL messages from stdin; one JSONL result per input line, in order."""
    ruleset = _load_or_exit(config_path, explain_words=explain)
    stream = sys.stdin  # CliRunner and pipes both provide it; click 8.5 deprecates get_text_stream
    size = batch or (1 if stream.isatty() else 32)
    pending: list[str] = []
    for line in stream:
        if line.strip():
            pending.append(line)
        if len(pending) >= size or (pending and not _more_waiting(stream)):
            _classify_lines(ruleset, pending)
            pending = []
    _classify_lines(ruleset, pending)


def _more_waiting(stream: Any) -> bool:
    """Whether more input can be read at once (a pipe being filled); True when unknown."""
    try:
        ready, _, _ = select.select([stream], [], [], 0)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return True  # no file descriptor (tests' in-memory stdin): batch by size and EOF
    return bool(ready)


def _classify_lines(ruleset: RuleSet, lines: list[str]) -> None:
    parsed: list[tuple[Any, Message | None, str | None]] = []  # (id, message, error)
    for line in lines:
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            parsed.append((None, None, f"invalid JSON: {exc.msg}"))
            continue
        ident = obj.get("id") if isinstance(obj, dict) else None
        try:
            parsed.append((ident, message_from_json(obj), None))
        except ValueError as exc:
            parsed.append((ident, None, str(exc)))
    found = iter(evaluate_many(ruleset, [m for _, m, _ in parsed if m is not None]))
    for ident, message, error in parsed:
        out: dict[str, Any]
        if message is None:
            out = {"id": ident, "error": error}
        else:
            findings = next(found)
            out = {
                "id": ident,
                "categories": categories_of(findings),
                "findings": [finding_json(f) for f in findings],
            }
        click.echo(json.dumps(out, ensure_ascii=False))
    sys.stdout.flush()


@click.group("rules")
def rules() -> None:
    """Work with the moderation rules."""


@rules.command("test")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@CONFIG_OPTION
@click.option(
    "--channel",
    type=click.Choice(sorted(CHANNELS)),
    default="fb_comment",
    show_default=True,
    help="Channel the exported messages came from.",
)
@click.option("--examples", type=int, default=3, show_default=True, help="Examples per rule.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON report instead of text.")
@click.option(
    "--chunk",
    type=click.IntRange(1, 4096),
    default=DRY_RUN_CHUNK,
    show_default=True,
    help="Messages judged together (the learned stage embeds them in one call).",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=min(os.cpu_count() or 1, DRY_RUN_MAX_JOBS),
    show_default="the number of CPUs, at most 8",
    help="Processes judging chunks side by side (each loads the rules once).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def rules_test(
    file: Path,
    config_path: str | None,
    channel: str,
    examples: int,
    as_json: bool,
    chunk: int,
    jobs: int,
    quiet: bool,
) -> None:
    """Dry run: replay the rules over an export of past comments (CSV or JSONL), streamed,
    with a progress bar on a terminal and the time it took at the end."""
    ruleset = _load_or_exit(config_path, explain_words=False)  # fail here, not in a worker
    load = functools.partial(_load_or_exit, config_path, explain_words=False)
    started = time.perf_counter()
    with progress(file, show=not quiet and sys.stderr.isatty()) as advance:
        chunks = chunked(export_rows(file, advance), chunk)
        tally = judge_export(chunks, ruleset, load, channel=channel, examples=examples, jobs=jobs)
    seconds = time.perf_counter() - started
    rate = tally.total / seconds if seconds > 0 else 0.0
    by_rule: dict[str, Any] = {r.id: r for r in ruleset.rules}
    stage = getattr(ruleset, "stage", None)  # the semantic stage's categories have rule ids too
    by_rule.update({c.rule: c for c in stage.categories} if stage else {})
    hits, samples = tally.hits, tally.samples
    if as_json:
        report = {
            "file": str(file),
            "messages": tally.total,
            "flagged": tally.flagged,
            "seconds": round(seconds, 3),
            "messages_per_second": round(rate, 1),
            "categories": dict(sorted(tally.per_category.items())),
            "rules": [
                {
                    "rule": rid,
                    "category": by_rule[rid].category,
                    "hits": n,
                    "examples": samples[rid],
                }
                for rid, n in sorted(hits.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
        }
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    click.echo(f"{file}: {tally.total} messages, {tally.flagged} flagged")
    for rid, n in sorted(hits.items(), key=lambda kv: (-kv[1], kv[0])):
        click.echo(f"\n{rid} ({by_rule[rid].category}, {by_rule[rid].severity}): {n} hits")
        for sample in samples[rid]:
            click.echo(f"  #{sample['id']}: {sample['excerpt']}")
    silent = sorted(r.id for r in ruleset.rules if r.id not in hits)
    if silent:
        click.echo(f"\nrules with no hits ({len(silent)}): {', '.join(silent)}")
    click.echo(f"\n{tally.total} messages in {seconds:.1f} s ({rate:.0f} a second)")


# The name the issue and operators use; `test` stays for scripts that already call it.
rules.add_command(rules_test, "dry-run")


@rules.command("train")
@click.option(
    "--public/--no-public",
    default=True,
    show_default=True,
    help="Also learn from the tune halves of ../shared/eval when they are there.",
)
@click.option("--check", is_flag=True, help="Train, then say whether the committed heads match.")
def rules_train(public: bool, check: bool) -> None:
    """Retrain the learned stage's heads from the committed corpus (rules/corpus/)."""
    from bot import training
    from bot.semantic import MODEL_ID, _embedder, availability
    from rules.semantic import SemanticConfig

    state = availability(SemanticConfig(enabled="auto"))
    if state.model_path is None or state.tokenizer_path is None:
        raise click.ClickException(f"the embedding model is not installed: {state.reason}")
    embedder = _embedder(str(state.model_path), str(state.tokenizer_path))
    heads = training.train(embedder.embed, MODEL_ID, use_public=public, log=click.echo)
    if check:
        from rules.semantic.heads import load_heads

        committed = load_heads()
        same = committed.meta.get("corpus_sha256") == heads.meta["corpus_sha256"]
        click.echo("committed heads match the corpus" if same else "committed heads are stale")
        raise SystemExit(0 if same else 1)
    training.write(heads)
    click.echo("wrote rules/semantic/heads.npz and rules/semantic/heads.json")
