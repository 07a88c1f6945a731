"""Usage header parsing: X-App-Usage, X-Business-Use-Case-Usage, X-Page-Usage. Never crashes."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from requests.structures import CaseInsensitiveDict

from bot.graph.usage import BusinessUseCase, Usage

PAGE = "111222333444555"
IG = "17841400000000000"

BUC = json.dumps(
    {
        PAGE: [
            {
                "type": "pages",
                "call_count": 97,
                "total_cputime": 23,
                "total_time": 23,
                "estimated_time_to_regain_access": 0,
            }
        ],
        IG: [
            {
                "type": "instagram",
                "call_count": 12,
                "total_cputime": 3,
                "total_time": 4,
                "estimated_time_to_regain_access": 7,
            }
        ],
    }
)


def headers(**values: str) -> CaseInsensitiveDict[str]:
    return CaseInsensitiveDict({k.replace("_", "-"): v for k, v in values.items()})


def test_parses_all_three_headers() -> None:
    usage = Usage.from_headers(
        headers(
            X_App_Usage='{"call_count":28,"total_time":25,"total_cputime":25}',
            X_Page_Usage='{"call_count":41,"total_time":2,"total_cputime":3}',
            X_Business_Use_Case_Usage=BUC,
        )
    )
    assert usage.app == {"call_count": 28, "total_time": 25, "total_cputime": 25}
    assert usage.page == {"call_count": 41, "total_time": 2, "total_cputime": 3}
    assert usage.business == [
        BusinessUseCase(
            PAGE, "pages", {"call_count": 97, "total_time": 23, "total_cputime": 23}, 0
        ),
        BusinessUseCase(
            IG, "instagram", {"call_count": 12, "total_time": 4, "total_cputime": 3}, 7
        ),
    ]
    assert usage.max_percent() == 97
    assert usage.max_percent(IG) == 41  # page-level header still counts
    assert usage.max_percent(PAGE) == 97


def test_header_names_are_case_insensitive() -> None:
    usage = Usage.from_headers(CaseInsensitiveDict({"x-app-usage": '{"call_count": 5}'}))
    assert usage.app == {"call_count": 5}


def test_wait_seconds_is_minutes_times_sixty() -> None:
    usage = Usage.from_headers(headers(X_Business_Use_Case_Usage=BUC))
    assert usage.regain_minutes(IG) == 7
    assert usage.wait_seconds(IG) == 420.0
    assert usage.wait_seconds(PAGE) == 0.0  # 0 means "no wait"
    assert usage.wait_seconds() == 420.0  # no id: the longest wait listed
    assert usage.wait_seconds("not-listed") == 420.0  # e.g. IG account whose BUC is its Page


def test_no_headers_means_zero_usage() -> None:
    usage = Usage.from_headers({})
    assert usage == Usage()
    assert usage.max_percent() == 0 and usage.wait_seconds() == 0.0
    assert usage.regain_minutes() is None


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "{",
        "null",
        "[]",
        "42",
        '"text"',
        "{not json}",
        '{"call_count": "lots"}',
        '{"call_count": null}',
        '{"call_count": true}',
        '{"call_count": -5}',
        '{"call_count": NaN}',
        '{"call_count": Infinity}',
        '{"call_count": [1]}',
        '{"call_count": {"x": 1}}',
        "[" * 50_000,
        '{"call_count": 1' + " " * 70_000 + "}",
        "\x00\xff",
    ],
)
def test_malformed_app_usage_is_ignored(raw: str) -> None:
    usage = Usage.from_headers(headers(X_App_Usage=raw, X_Page_Usage=raw))
    assert usage.app == {} and usage.page == {}
    assert usage.max_percent() == 0


def test_numbers_as_strings_and_floats_are_read() -> None:
    usage = Usage.from_headers(headers(X_App_Usage='{"call_count":"12","total_time":80.6}'))
    assert usage.app == {"call_count": 12, "total_time": 81}


@pytest.mark.parametrize(
    "raw",
    [
        "{",
        "[]",
        '{"1": 5}',
        '{"1": "pages"}',
        '{"1": [5, null, "x"]}',
        '{"1": [{"type": 5, "call_count": "x", "estimated_time_to_regain_access": "soon"}]}',
        '{"1": [{"estimated_time_to_regain_access": -3}]}',
        '{"1": [{"estimated_time_to_regain_access": true}]}',
    ],
)
def test_malformed_business_usage_is_tolerated(raw: str) -> None:
    usage = Usage.from_headers(headers(X_Business_Use_Case_Usage=raw))
    assert usage.max_percent() == 0
    assert usage.wait_seconds() == 0.0
    assert all(e.type is None or isinstance(e.type, str) for e in usage.business)


def test_business_usage_with_a_bare_object_instead_of_a_list() -> None:
    raw = json.dumps({PAGE: {"type": "pages", "call_count": 55}})
    assert Usage.from_headers(headers(X_Business_Use_Case_Usage=raw)).max_percent() == 55


def test_business_usage_entries_are_capped() -> None:
    raw = json.dumps({str(i): [{"type": "pages", "call_count": 1}] for i in range(500)})
    usage = Usage.from_headers(headers(X_Business_Use_Case_Usage=raw))
    assert 32 <= len(usage.business) <= 64


class _Exploding(dict[str, Any]):
    def get(self, key: str, default: Any = None) -> Any:
        raise RuntimeError("broken header mapping")


def test_a_broken_header_mapping_gives_empty_usage() -> None:
    assert Usage.from_headers(_Exploding()) == Usage()


def test_random_garbage_never_raises() -> None:
    rng = random.Random(20261121)
    alphabet = '{}[]":,0123456789.-eE truefalsnNaI\\u\x00' + "\u00e9\U0001f499"
    pieces = [
        '{"',
        '":',
        "[{",
        "}]",
        '"call_count":',
        '"estimated_time_to_regain_access":',
        "1e309",
    ]
    for _ in range(2000):
        raw = "".join(
            rng.choice(pieces) if rng.random() < 0.3 else rng.choice(alphabet)
            for _ in range(rng.randint(0, 60))
        )
        usage = Usage.from_headers(
            headers(X_App_Usage=raw, X_Page_Usage=raw, X_Business_Use_Case_Usage=raw)
        )
        assert usage.max_percent() >= 0
        assert usage.wait_seconds() >= 0.0
