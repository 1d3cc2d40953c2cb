"""Bangla names of the units whose source has none, by rule rather than by guess.

The embedded layer's Bangla names are joined by name from a gazetteer (scripts/
build_union_layer.py); what it lacks is mostly urban units whose English names follow a
pattern: city wards ("Ward No-07"), municipalities ("Paurashava" in an upazila, or
"Chandpur Paurashava") and Sundarbans forest ranges ("Khulna Range"). Those are named here
from the pattern and the Bangla name of the upazila, district or union whose name they bear;
anything else stays without a Bangla name (the dashboard then shows the official English
spelling).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from agam.core.bengali import digits

WARD = re.compile(r"^Ward No-(\d+)( \((?i:part)\))?$")  # BBS writes "(Part)" and "(part)"
PAURASHAVA = re.compile(r"^(?:(.+) )?Paurashava( \((?i:part)\))?$")
RANGE = re.compile(r"^(.+) Range$")
TOWN_UNITS = ((PAURASHAVA, "পৌরসভা"), (RANGE, "রেঞ্জ"))  # a town's unit: its Bangla word
PART_BN = " (অংশ)"
SADAR_BN = " সদর"


def ward_name(english: str) -> str | None:
    """'Ward No-07' -> 'ওয়ার্ড নং-০৭' ('(Part)' -> '(অংশ)'); None for any other name."""
    found = WARD.match(english)
    if found is None:
        return None
    number = digits(found.group(1), "bn")
    return f"ওয়ার্ড নং-{number}" + (PART_BN if found.group(2) else "")


def town_unit_name(
    english: str,
    upazila: tuple[str, str | None],
    district: tuple[str, str | None],
    same: Callable[[str, str], bool],
    unions: Sequence[tuple[str, str | None]] = (),
) -> str | None:
    """A unit named after a town, in Bangla: a municipality ('Paurashava' of an upazila, or
    '<town> Paurashava') as '<town> পৌরসভা', a Sundarbans forest range ('<town> Range') as
    '<town> রেঞ্জ'. The town is the upazila's, the district's or (`unions`) a union's name in
    the same upazila (compared by `same`), written as its Bangla name without 'সদর'. None
    for any other unit, or when the town is none of them, or has no Bangla name, or the
    upazila's English name carries a second name in brackets (the unit may bear either)."""
    for pattern, word in TOWN_UNITS:
        found = pattern.match(english)
        if found is None:
            continue
        part = PART_BN if pattern.groups > 1 and found.group(2) else ""
        base = _town_bn(found.group(1), upazila, (upazila, district, *unions), same)
        return None if base is None else f"{base} {word}{part}"
    return None


def _town_bn(
    town: str | None,
    upazila: tuple[str, str | None],
    places: Sequence[tuple[str, str | None]],
    same: Callable[[str, str], bool],
) -> str | None:
    """The Bangla name of the first of `places` (English, Bangla) that is `town` (None: the
    upazila itself), without 'সদর'; a place whose English name carries a second name in
    brackets, or has no Bangla name, is passed over."""
    for name_en, name_bn in places:
        if not name_bn or "(" in name_en:
            continue
        if town is None and (name_en, name_bn) != upazila:
            continue  # a bare "Paurashava" is the upazila's own
        if town is None or same(town, name_en):
            return name_bn.removesuffix(SADAR_BN).strip()
    return None
