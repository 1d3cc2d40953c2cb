"""ADM3 crosswalk 2020 <-> 2025 so rule sets can name either code."""

from __future__ import annotations

import pytest

from agam.core.errors import BoundaryError
from boundaries.crosswalk import adm3_to_2020, crosswalk_rows, to_2020, to_2025


def test_chilmari_both_ways() -> None:
    assert to_2025("BD554909") == "BD55490009"
    assert to_2020("BD55490009") == "BD554909"
    assert adm3_to_2020("BD55490009") == "BD554909"
    assert adm3_to_2020("bd554909") == "BD554909"


def test_every_framework_upazila_has_a_2025_code() -> None:
    framework = [
        "BD305487",
        "BD305628",
        "BD305678",
        "BD308614",
        "BD308665",
        "BD308694",
        "BD501095",
        "BD501081",
        "BD501027",
        "BD453929",
        "BD553267",
        "BD553221",
        "BD553291",
        "BD553224",
        "BD553230",
        "BD553282",
        "BD553288",
        "BD453915",
        "BD453907",
        "BD453985",
        "BD453961",
        "BD453936",
        "BD453958",
        "BD554979",
        "BD554961",
        "BD554906",
        "BD554994",
        "BD554977",
        "BD554908",
        "BD554909",
        "BD554952",
        "BD508867",
        "BD508811",
        "BD508827",
        "BD508850",
        "BD508878",
        "BD508861",
        "BD508894",
    ]
    assert all(to_2025(code) for code in framework)


def test_metropolitan_thanas_have_no_2025_upazila() -> None:
    rows = [r for r in crosswalk_rows() if r.match == "none"]
    assert rows, "the 2025 release folds city thanas into city corporations"
    assert all(r.adm3_pcode_2025 == "" for r in rows)
    assert len({r.adm3_pcode_2020 for r in crosswalk_rows()}) == len(crosswalk_rows())


def test_unknown_code_is_refused() -> None:
    with pytest.raises(BoundaryError, match="unknown ADM3 P-code 'BD000000'"):
        adm3_to_2020("BD000000")
