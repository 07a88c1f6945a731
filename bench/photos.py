"""Time and memory of looking at a picture (rules/vision): the analysis alone, on one core.

Usage: .venv/bin/python bench/photos.py [--repeats 5]

Runs in this process pinned to one core (where the OS allows). Pictures are the tests' own
(tests/vision/pictures.py): sample photographs from scikit-image's data, a group of three, a
card with a school and a phone number, a chat screenshot, a video call and a photographed
letter, each also at phone-camera size (4032 x 3024, upscaled) where it is a photograph. The
first analysis loads the models (OpenCV's cascades, RapidOCR's three ONNX models): its time is
reported as start-up. Then each picture is analysed `--repeats` times; times are CPU time of
the process (OpenCV and onnxruntime are held to one thread each) and wall clock, p50 and p95
over every run of every picture. Peak memory is the process's maximum RSS.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def pictures() -> dict[str, bytes]:
    from tests.vision import pictures as p

    photo = p.sample("astronaut.png")
    return {
        "portrait 512x512 (PNG)": p.encoded(photo),
        "portrait at phone size 4032x3024 (JPEG)": p.encoded(
            photo.resize((4032, 3024)), "JPEG", quality=90
        ),
        "no people 600x400 (coffee, PNG)": p.encoded(p.sample("coffee.png")),
        "group of three 1536x512 (JPEG)": p.encoded(p.group_photo(3), "JPEG", quality=90),
        "card with a school and phone 900x250 (PNG)": p.encoded(
            p.poster(["Oakfield Primary School", "Call Jo on 07700 900123"], size=36)
        ),
        "chat screenshot 720x1400 (PNG)": p.encoded(p.chat_screenshot()),
        "video call 1280x860 (JPEG)": p.encoded(p.video_call(), "JPEG", quality=90),
        "photographed letter 1100x1400 (JPEG)": p.encoded(p.letter_photo(), "JPEG", quality=88),
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    from rules import load_ruleset
    from rules.vision import analyse_image
    from rules.vision.analysis import forget_pictures

    ruleset = load_ruleset()
    data = pictures()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    analyse_image(next(iter(data.values())), ruleset=ruleset)
    startup = time.perf_counter() - started
    cpu_all: list[float] = []
    wall_all: list[float] = []
    rows = []
    for name, picture in data.items():
        cpu, wall = [], []
        for _ in range(args.repeats):
            forget_pictures()  # the looking is what is timed, not the memory of it
            c0, w0 = time.process_time(), time.perf_counter()
            analyse_image(picture, ruleset=ruleset)
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
        cpu_all += cpu
        wall_all += wall
        rows.append((name, statistics.median(cpu), statistics.median(wall)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"- command: `.venv/bin/python bench/photos.py --repeats {args.repeats}`")
    print(
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average "
        f"{os.getloadavg()[0]:.1f} at the end"
    )
    print(
        f"- machine: {os.cpu_count()} CPUs, {platform.machine()}, Python "
        f"{platform.python_version()}; pinned to one core"
    )
    print(f"- start-up (first analysis, models loaded): {startup:.2f} s")
    print(f"- peak RSS: {peak:.0f} MB (before the first analysis: {rss_before:.0f} MB)")
    print()
    print("| picture | CPU s (median) | wall s (median) |")
    print("| --- | ---: | ---: |")
    for name, cpu, wall in rows:
        print(f"| {name} | {cpu:.2f} | {wall:.2f} |")
    print(
        f"| **all, p50 / p95** | {percentile(cpu_all, 0.5):.2f} / {percentile(cpu_all, 0.95):.2f}"
        f" | {percentile(wall_all, 0.5):.2f} / {percentile(wall_all, 0.95):.2f} |"
    )


if __name__ == "__main__":
    main()
