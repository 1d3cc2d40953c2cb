"""The observed series given to `agam report activation --observed`: a hostile or careless
file is one error naming the file and the row, never a traceback or a peak of infinity."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from agam.core.errors import AgamError
from agam.pipeline.me_peak import read_observed

HEADER = b"time,value\n"
AT = b"2026-06-28T06:00:00+06:00"


def test_a_good_series_is_read_in_utc(tmp_path: Path) -> None:
    path = tmp_path / "obs.csv"
    path.write_bytes(HEADER + AT + b",19.2\n" + AT.replace(b"28", b"29") + b",19.6\n")
    assert read_observed(path) == [
        (datetime(2026, 6, 28, 0, 0, tzinfo=UTC), 19.2),
        (datetime(2026, 6, 29, 0, 0, tzinfo=UTC), 19.6),
    ]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (HEADER + AT + b",19.2\n" + AT + b",nan\n", "obs.csv row 3: value 'nan' is not a number"),
        (HEADER + AT + b",inf\n", "obs.csv row 2: value 'inf' is not a number"),
        (HEADER + AT + b",high\n", "obs.csv row 2: time/value unreadable"),
        (HEADER + b"\x97\xff\x00\n", "obs.csv after row 1: not a readable CSV (not UTF-8 text)"),
        (HEADER + AT + b',"' + b"1" * 200_000 + b'"\n', "obs.csv after row 1: not a readable CSV"),
        (HEADER, "obs.csv: no observations"),
    ],
)
def test_a_bad_series_is_one_error_naming_the_row(
    tmp_path: Path, content: bytes, error: str
) -> None:
    path = tmp_path / "obs.csv"
    path.write_bytes(content)
    with pytest.raises(AgamError) as raised:
        read_observed(path)
    assert str(raised.value).startswith(error)
