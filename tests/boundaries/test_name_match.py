"""Joining the gazetteer's Bangla names: a direction is part of a name, and no two places get
one name (`boundaries.name_match`)."""

from __future__ import annotations

from boundaries.name_match import last_pair, match_names, name_key, parent_by_children


def test_a_direction_is_part_of_the_name_wherever_it_is_written() -> None:
    assert name_key("Uttar Kalocho") == name_key("Kalocho (North)") == name_key("North Kalocho")
    assert name_key("Kalocho (North)") != name_key("Kalocho (South)")
    assert name_key("Purbachandrapur") == name_key("Purba Chandrapur")
    assert name_key("Dhaka Dakshin") == name_key("Dhakadakshin")
    assert name_key("Uttara").directions == ()  # too short a rest to be a glued direction
    assert name_key("Uttar Purba Baniachang") == name_key("Baniachang (North East)")


def test_romanisations_of_one_vowel_meet() -> None:
    assert name_key("Rajnagar").sounded() == name_key("Rajnogor").sounded()
    assert name_key("Laxmipur").sounded() == name_key("Lakshmipur").sounded()
    assert match_names(["Torabgang", "Nilkamal"], ["Nilkomol", "Torabgonj"]) == {0: 1, 1: 0}
    assert match_names(["Baga", "Boga"], ["Boga"]) == {1: 0}  # the exact name first


def test_a_bracketed_second_name_is_left_out() -> None:
    assert name_key("Joyag (dakshin Bara Karai)") == name_key("Joyag")
    assert name_key("Noakhali Sadar (Sudharam)") == name_key("Noakhali")


def test_an_exact_name_is_never_given_to_another_place_by_spelling() -> None:
    # "Charadi" is within the fuzzy cutoff of "Char Amaddi", whose own unit takes it
    assert match_names(["Charadi", "Char Amaddi"], ["Char Amaddi"]) == {1: 0}
    assert match_names(["Eochia", "Keochia"], ["Keochia", "Eochiya"]) == {0: 1, 1: 0}


def test_spelling_never_crosses_a_direction() -> None:
    assert match_names(["Uttar Algi Durgapur"], ["Algi Durgapur (South)"]) == {}
    assert match_names(["Tarabunia"], ["North Tarabunia", "South Tarabunia"]) == {}
    assert match_names(["Ewajpur"], ["Awajpur"]) == {0: 0}  # spellings of one name


def test_ambiguous_names_match_nothing() -> None:
    assert match_names(["Kalia"], ["Kalia", "Kaliya"]) == {}  # one key, two entries
    assert match_names(["Kalia", "Kaliya"], ["Kalia"]) == {}  # one key, two units
    assert match_names(["Rampur"], ["Rampura", "Rampuri"]) == {}  # equally close


def test_a_renamed_parent_is_found_by_its_childrens_names() -> None:
    candidates = {1: ["Dacope", "Bajua", "Kamarkhola", "Pankhali"], 2: ["Bajua", "Other"]}
    children = ["Dacope", "Bajua", "Kamarkhola", "Tildanga"]
    assert parent_by_children(children, candidates) == 1
    assert parent_by_children(["Bajua", "Tildanga", "Nowhere"], candidates) is None  # tie
    assert parent_by_children(["Dacope", "Bajua", "A", "B", "C"], candidates) is None  # too few


def test_the_last_pair_of_two_equal_lists_is_one_place_if_still_alike() -> None:
    units = ["Badarkhali", "Phuljhury", "Gaurichanna"]
    entries = ["Gaurichanna", "Fuljhuri", "Badarkhali"]
    found = match_names(units, entries)
    assert found == {0: 2, 2: 0}
    assert last_pair(units, entries, found) == (1, 1)
    assert last_pair([*units, "Other"], entries, found) is None  # lists of unequal length
    assert last_pair(["A1", "Birhati"], ["A1", "Aloa"], {0: 0}) is None  # not alike
    assert last_pair(["A1", "Uttar Badaghat"], ["A1", "Badaghat"], {0: 0}) is None  # direction
