"""Units the gazetteer did not name in Bangla get a name only by rule: city wards from their
number, municipalities from the Bangla name of the upazila or district town they belong to."""

from __future__ import annotations

import re

from boundaries.bangla_names import paurashava_name, ward_name
from boundaries.layer import load_union_layer


def same(a: str, b: str) -> bool:
    def key(name: str) -> str:
        return re.sub(r"[^a-z]", "", re.sub(r"\b(sadar|paurashava)\b", "", name.lower()))

    return key(a) == key(b)


def test_wards_are_named_from_their_number() -> None:
    assert ward_name("Ward No-07") == "ওয়ার্ড নং-০৭"
    assert ward_name("Ward No-36 (Part)") == "ওয়ার্ড নং-৩৬ (অংশ)"
    assert ward_name("Wardha") is None
    assert ward_name("Ward No-7a") is None


def test_municipalities_take_their_towns_bangla_name() -> None:
    chandpur = (("Chandpur Sadar", "চাঁদপুর সদর"), ("Chandpur", "চাঁদপুর"))
    assert paurashava_name("Chandpur Paurashava", *chandpur, same) == "চাঁদপুর পৌরসভা"
    assert paurashava_name("Paurashava", *chandpur, same) == "চাঁদপুর পৌরসভা"
    assert paurashava_name("Paurashava (Part)", *chandpur, same) == "চাঁদপুর পৌরসভা (অংশ)"
    district_town = (("Other", "অন্য"), ("Chandpur", "চাঁদপুর"))
    assert paurashava_name("Chandpur Paurashava", *district_town, same) == "চাঁদপুর পৌরসভা"
    assert paurashava_name("Paurashava", *district_town, same) == "অন্য পৌরসভা"
    assert paurashava_name("Hajiganj Paurashava", *chandpur, same) is None  # another town
    assert paurashava_name("Paurashava", ("Gaurnadi", None), ("Barisal", "বরিশাল"), same) is None
    bracketed = (("Nesarabad (Swarupkati)", "নেছারাবাদ"), ("Pirojpur", "পিরোজপুর"))
    assert paurashava_name("Paurashava", *bracketed, same) is None  # either name may be its
    assert paurashava_name("Chandpur", *chandpur, same) is None


def test_the_shipped_layer_names_every_ward_in_bangla() -> None:
    frame = load_union_layer().frame
    wards = frame[frame["adm4_en"].str.match(r"^Ward No-\d+( \(Part\))?$")]
    assert len(wards) > 250
    assert wards["adm4_bn"].notna().all()
    assert (wards["adm4_bn"].str.startswith("ওয়ার্ড নং-")).all()
    assert frame["adm4_bn"].notna().mean() > 0.79
