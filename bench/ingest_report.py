"""The ingest benchmark's results: one row per offered rate, the markdown table, the verdicts."""

from __future__ import annotations

from dataclasses import dataclass

AIM_RATE, AIM_P99_MS, SUSTAINED_P99_MS = 200.0, 50.0, 100.0


@dataclass
class Row:
    stack: str
    rate: float
    duration: float
    sent: int
    ok: int
    throughput: float
    p50: float
    p95: float
    p99: float
    max: float
    lag_p99: float
    errors: dict[str, int]
    odd_bodies: int
    stored_ok: int
    missing: int
    duplicates: int
    stored_without_200: int
    reconnects: int
    backlog_after: int
    drain_seconds: float | None
    drain_rate: float | None
    cpu: str = ""  # CPUs busy in the step: web / worker / client / pg+redis / other
    web_cpu_ms: float = float("nan")  # web server CPU per answered request
    # PostgreSQL CPU per answered request: this run's database only (the worker's too)
    pg_cpu_ms: float = float("nan")

    @property
    def exact(self) -> bool:
        return self.missing == 0 and self.duplicates == 0 and self.stored_ok == self.ok

    @property
    def sustained(self) -> bool:
        """Every request answered 200, at the offered rate, within the p99 bound."""
        error_free = not self.errors and self.sent == round(self.rate * self.duration)
        return error_free and self.exact and self.throughput >= 0.95 * self.rate


def table(rows: list[Row]) -> str:
    head = (
        "| offered req/s | sent | 200/s achieved | p50 ms | p95 ms | p99 ms | max ms "
        "| non-200 / errors | stored == 200s, no dups | send lag p99 ms | queue after step "
        "| web CPU ms/req | PostgreSQL CPU ms/req (this db) "
        "| CPUs busy: web / worker / client / pg+redis / other |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---|---:|---:|---|"
    )
    lines = [head]
    for r in rows:
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(r.errors.items())) or "0"
        if r.odd_bodies:
            errors += f"; {r.odd_bodies} 200s not 'stored 1'"
        check = "yes" if r.exact else f"NO: {r.missing} missing, {r.duplicates} dup"
        check += f" ({r.stored_ok}/{r.ok})"
        if r.stored_without_200:
            check += f", +{r.stored_without_200} stored without a 200"
        queue = (
            f"drained in {r.drain_seconds:.1f} s"
            if r.drain_seconds is not None
            else f"{r.backlog_after} waiting"
        )
        if r.drain_rate and r.drain_seconds is None:
            queue += f" ({r.drain_rate:.0f} items/s)"
        lines.append(
            f"| {r.rate:g} | {r.sent} | {r.throughput:.1f} | {r.p50:.1f} | {r.p95:.1f} "
            f"| {r.p99:.1f} | {r.max:.1f} | {errors} | {check} | {r.lag_p99:.1f} | {queue} "
            f"| {r.web_cpu_ms:.2f} | {r.pg_cpu_ms:.2f} | {r.cpu} |"
        )
    return "\n".join(lines)


def conclusions(name: str, rows: list[Row]) -> str:
    # A rate tried more than once counts only if every try passed: the verdict must not
    # depend on picking the lucky repetition on a shared machine.
    by_rate: dict[float, list[Row]] = {}
    for r in rows:
        by_rate.setdefault(r.rate, []).append(r)
    good = [
        rate
        for rate, tries in by_rate.items()
        if all(t.sustained and t.p99 < SUSTAINED_P99_MS for t in tries)
    ]
    if not good:
        sustained = f"no tested rate was sustained with p99 < {SUSTAINED_P99_MS:g} ms"
    else:
        best = max(good)
        sustained = f"highest sustained rate with p99 < {SUSTAINED_P99_MS:g} ms: {best:g} req/s"
        if best == max(by_rate):
            sustained += " (the highest rate tried; the ceiling is above it)"
    tries = by_rate.get(AIM_RATE, [])
    if not tries:
        aim = f"aim not tested ({AIM_RATE:g} req/s not among the rates)"
    else:
        holds = sum(t.sustained and t.p99 < AIM_P99_MS for t in tries)
        verdict = "HOLDS" if holds == len(tries) else "DOES NOT HOLD"
        p99s = ", ".join(f"{t.p99:.1f}" for t in tries)
        aim = f"aim p99 < {AIM_P99_MS:g} ms at {AIM_RATE:g} req/s: {verdict} (p99 {p99s} ms"
        aim += f"; held in {holds} of {len(tries)} tries)" if len(tries) > 1 else ")"
    lost = sum(r.missing + r.duplicates for r in rows)
    errors = sum(sum(r.errors.values()) for r in rows)
    integrity = (
        "every 200 is exactly one stored item" if not lost else f"{lost} items lost/duplicated"
    )
    return f"- **{name}**: {sustained}; {aim}; {integrity}; {errors} non-200 or failed requests."
