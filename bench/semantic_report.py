"""Tables for docs/detection.md: rules alone vs rules + the semantic stage, per file of
../shared/eval and on our charity cases. Called by bench/detection.py; scores come from
bench/semantic_eval.py (cached per file)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from semantic_eval import (
    CHARITY,
    Counts,
    Row,
    evaluate,
    load_pack,
    predict,
    score_rows,
    stage_for_bench,
)


def semantic_tables(data_dir: Path, family_for: Callable) -> list[str] | None:  # type: ignore[type-arg]
    """The generated tables, or None when the semantic extra is not installed."""
    stage = stage_for_bench()
    if stage is None:
        print("note: the semantic extra is not installed; rules alone only")
        return None
    per_file, families = {}, {}
    for path in sorted(data_dir.glob("*.jsonl")):
        fam = family_for(path.stem)
        if fam is not None and not path.stem.startswith("pii_"):  # the stage has no pii
            per_file[path.stem] = score_rows(path, stage, None)
            families[path.stem] = fam[0]
    charity = score_rows(CHARITY, stage, None)
    return render(per_file, families) + [""] + render_charity(charity)


# Aims from issue 9: (file, F1 at least, recall at least)
AIMS: dict[str, tuple[float, float | None]] = {
    "risk_suicide_cssrs500": (0.75, 0.90),
    "risk_suicide_rallypoint": (0.75, 0.90),
    "risk_suicide_reddit27": (0.75, 0.90),
    "risk_abuse_dv_dreaddit": (0.72, None),
    "spam_sms_uci": (0.93, None),
    "toxic_olid": (0.70, None),
    "toxic_hatexplain": (0.70, None),
    "help_seeking_reddit27": (0.80, None),
    "advice_medical_liveqa": (0.85, None),
    "advice_legal_reddit27": (0.78, None),
}
CHARITY_FAMILIES: dict[str, tuple[str, ...]] = {
    "suicide": ("risk.suicide", "risk.self_harm"),
    "abuse": ("risk.abuse", "risk.domestic_violence", "risk.child_at_risk"),
    "harm": ("risk.harm_to_others",),
    "help": ("help_request.",),
    "legal": ("out_of_remit.legal",),
    "medical": ("out_of_remit.medical",),
    "abusive": ("abusive.",),
    "spam": ("spam",),
}


def configured() -> tuple[dict[str, float], dict[str, str]]:
    """The shipped thresholds (pack, no config overrides) and the default modes."""
    from rules.semantic.config import SemanticConfig

    config = SemanticConfig()
    modes = dict.fromkeys(config.raise_on_own, "raise")
    modes.update(dict.fromkeys(config.strengthen_only, "strengthen"))
    return dict(load_pack().thresholds), modes


def _prf(c: Counts) -> str:
    return f"{c.p:.2f} | {c.r:.2f} | {c.f():.2f}"


def render(per_file: dict[str, list[Row]], families: dict[str, tuple[str, ...]]) -> list[str]:
    thresholds, modes = configured()
    off: dict[str, float] = {}
    out = [
        "### Rules alone vs rules + semantic stage",
        "",
        "Default config: the stage may raise risk, help requests and out-of-remit questions on "
        "its own and may only strengthen abuse and spam; thresholds as shipped in "
        "`rules/packs/semantic.yaml`, chosen on the tune half (`bench/semantic_eval.py --tune`). "
        "The check half was not used to choose anything.",
        "",
        "| file | rules P | R | F1 | + semantic P | R | F1 | F1 tune | F1 check | R check "
        "| aim | met (all rows) | met (check half) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for stem, rows in per_file.items():
        fam = families[stem]
        alone = evaluate(rows, fam, off, modes)
        both = evaluate(rows, fam, thresholds, modes)
        tune_c = evaluate(rows, fam, thresholds, modes, "tune")
        check = evaluate(rows, fam, thresholds, modes, "check")
        aim, met_all, met_check = "-", "-", "-"
        if stem in AIMS:
            f1, recall = AIMS[stem]
            aim = f"F1 >= {f1}" + (f", R >= {recall}" if recall else "")

            def met(c: Counts, f1: float = f1, recall: float | None = recall) -> str:
                ok = c.f() >= f1 and (recall is None or c.r >= recall)
                return "yes" if ok else "**no**"

            met_all, met_check = met(both), met(check)
        out.append(
            f"| `{stem}` | {_prf(alone)} | {_prf(both)} | {tune_c.f():.2f} | {check.f():.2f} "
            f"| {check.r:.2f} | {aim} | {met_all} | {met_check} |"
        )
    out += [
        "",
        "If the stage could raise every family on its own (F1, tune half / check half), at each "
        "family's tuned threshold: this is why abuse and spam only strengthen.",
        "",
        "| file | rules alone F1 tune / check | raise on own F1 tune / check |",
        "| --- | --- | --- |",
    ]
    raise_all = dict.fromkeys(("risk", "help_request", "out_of_remit", "abusive", "spam"), "raise")
    for stem, rows in per_file.items():
        fam = families[stem]
        a = [evaluate(rows, fam, off, modes, h).f() for h in ("tune", "check")]
        b = [evaluate(rows, fam, thresholds, raise_all, h).f() for h in ("tune", "check")]
        out.append(f"| `{stem}` | {a[0]:.2f} / {a[1]:.2f} | {b[0]:.2f} / {b[1]:.2f} |")
    return out


def render_charity(rows: list[Row]) -> list[str]:
    thresholds, modes = configured()
    out = [
        "### Our charity-style cases (`bench/data/charity_cases.jsonl`)",
        "",
        f"{len(rows)} short comments written by the team in the voice of UK charity pages "
        f"({sum(1 for r in rows if not r.expect)} of them hard negatives such as awareness "
        "walks, fundraising, figures of speech and recovery stories), labelled by family. Never "
        "used to write prototypes or choose thresholds.",
        "",
        "| family | positives | rules P | R | F1 | + semantic P | R | F1 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    groups = dict(CHARITY_FAMILIES)
    groups["any risk"] = ("risk.",)
    for name, prefixes in groups.items():
        wanted = {"suicide", "abuse", "harm"} if name == "any risk" else {name}
        alone, both = Counts(), Counts()
        for row in rows:
            gold = bool(wanted & set(row.expect))
            alone.add(predict(row, prefixes, {}, modes), gold)
            both.add(predict(row, prefixes, thresholds, modes), gold)
        positives = alone.tp + alone.fn
        out.append(f"| {name} | {positives} | {_prf(alone)} | {_prf(both)} |")
    return out
