"""Units the gazetteer did not name in Bangla get a name only by rule: city wards from their
number, municipalities from the Bangla name of the upazila or district town they belong to."""

from __future__ import annotations

import re

from boundaries.bangla_names import town_unit_name, ward_name
from boundaries.layer import load_union_layer
from boundaries.name_match import name_key


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
    assert town_unit_name("Chandpur Paurashava", *chandpur, same) == "চাঁদপুর পৌরসভা"
    assert town_unit_name("Paurashava", *chandpur, same) == "চাঁদপুর পৌরসভা"
    assert town_unit_name("Paurashava (Part)", *chandpur, same) == "চাঁদপুর পৌরসভা (অংশ)"
    district_town = (("Other", "অন্য"), ("Chandpur", "চাঁদপুর"))
    assert town_unit_name("Chandpur Paurashava", *district_town, same) == "চাঁদপুর পৌরসভা"
    assert town_unit_name("Paurashava", *district_town, same) == "অন্য পৌরসভা"
    assert town_unit_name("Hajiganj Paurashava", *chandpur, same) is None  # another town
    assert town_unit_name("Paurashava", ("Gaurnadi", None), ("Barisal", "বরিশাল"), same) is None
    bracketed = (("Nesarabad (Swarupkati)", "নেছারাবাদ"), ("Pirojpur", "পিরোজপুর"))
    assert town_unit_name("Paurashava", *bracketed, same) is None  # either name may be its
    assert town_unit_name("Chandpur", *chandpur, same) is None
    sharsha = (("Sharsha", "শার্শা"), ("Jessore", "যশোর"))
    unions = [("Bagachra", "বাগআঁচড়া"), ("Benapole", "বেনাপোল")]  # a union's town
    assert town_unit_name("Benapole Paurashava", *sharsha, same, unions) == "বেনাপোল পৌরসভা"
    assert town_unit_name("Benapole Paurashava", *sharsha, same) is None


def test_forest_ranges_take_their_towns_bangla_name() -> None:
    dacope = (("Dacope", "দাকোপ"), ("Khulna", "খুলনা"))
    assert town_unit_name("Khulna Range", *dacope, same) == "খুলনা রেঞ্জ"
    assert town_unit_name("Nalian Range", *dacope, same) is None  # no town of that name
    mongla = (("Mongla", "মোংলা"), ("Bagerhat", "বাগেরহাট"))
    assert town_unit_name("Chandpai Range", *mongla, same, [("Chandpai", "চাঁদপাই")]) == "চাঁদপাই রেঞ্জ"
    assert town_unit_name("Khulna", *dacope, same) is None
    frame = load_union_layer().frame.set_index("adm4_en")
    assert frame.loc["Satkhira Range", "adm4_bn"] == "সাতক্ষীরা রেঞ্জ"


def test_the_shipped_layer_names_every_ward_in_bangla() -> None:
    frame = load_union_layer().frame
    wards = frame[frame["adm4_en"].str.match(r"^Ward No-\d+( \((?i:part)\))?$")]
    assert len(wards) > 250
    assert wards["adm4_bn"].notna().all()
    assert (wards["adm4_bn"].str.startswith("ওয়ার্ড নং-")).all()
    assert frame["adm4_bn"].notna().mean() > 0.92


# How the Bangla names write a direction (also the English loan words of "North Channel").
DIRECTION_BN = {
    "N": ("উত্তর", "নর্থ"),
    "S": ("দক্ষিণ", "দক্ষিন", "দঃ", "সাউথ"),
    "E": ("পূর্ব", "পুর্ব"),
    "W": ("পশ্চিম", "পঃ"),
}


def test_no_two_units_of_an_upazila_share_a_bangla_name() -> None:
    """A municipality is not the union it is named after, and a spelling close to another
    union's name is not that union (the CAP alert's Bangla area names come from here)."""
    named = load_union_layer().frame.dropna(subset=["adm4_bn"])
    shared = named[named.duplicated(["adm3_pcode", "adm4_bn"], keep=False)]
    assert shared[["adm3_en", "adm4_en", "adm4_bn"]].to_dict("records") == []
    upazilas = named.drop_duplicates("adm3_pcode").dropna(subset=["adm3_bn"])
    assert not upazilas.duplicated(["adm2_pcode", "adm3_bn"]).any()


def test_municipalities_are_named_as_municipalities() -> None:
    frame = load_union_layer().frame.dropna(subset=["adm4_bn"])
    towns = frame[frame["adm4_en"].str.contains("Paurashava")]
    assert len(towns) > 250
    assert towns["adm4_bn"].str.contains("পৌরসভা").all()


def test_a_bangla_name_keeps_the_direction_of_the_english_one() -> None:
    frame = load_union_layer().frame.dropna(subset=["adm4_bn"])
    wrong = [
        (row.adm4_en, row.adm4_bn)
        for row in frame.itertuples()
        for direction in name_key(row.adm4_en).directions
        if not any(word in row.adm4_bn for word in DIRECTION_BN[direction])
    ]
    assert wrong == []


def test_city_thanas_take_their_bangla_name_from_the_postcode_list() -> None:
    frame = load_union_layer().frame.drop_duplicates("adm3_pcode").set_index("adm3_en")
    assert frame.loc["Dhanmondi", "adm3_bn"] == "ধানমন্ডি"
    assert frame.loc["Pahartali", "adm3_bn"] == "পাহাড়তলী"
    assert frame["adm3_bn"].notna().mean() > 0.92
