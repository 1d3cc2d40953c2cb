"""A list line's reasons: the terms of its priority score, stored as compact codes and put
into words only when shown (English here and on the CLI, the reader's language on the
dashboard).

A code is `<flag>:<points>` for a household flag (`disability:3`), or
`hazard:<points>:<intensity>[:<evidence>]` for the union's hazard term
(`hazard:3.50:0.88:160.0 km/h`). Lines proposed before codes stored the English sentence
itself ("person with disability (+3)"); `parse` reads both, so old lists still show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FLAG_LABELS = {
    "female_headed": "female-headed household",
    "disability": "person with disability",
    "elderly": "older person",
    "pregnant_lactating": "pregnant or lactating woman",
    "children_under5": "child under 5",
    "char_resident": "lives on a char",
}
HAZARD = "hazard"
_FLAG_CODE = re.compile(r"^(?P<term>[a-z_0-9]+):(?P<points>[0-9]+(?:\.[0-9]+)?)$")
_HAZARD_CODE = re.compile(
    r"^hazard:(?P<points>[0-9]+\.[0-9]+):(?P<value>[0-9]+\.[0-9]+)(?::(?P<evidence>.+))?$"
)
_SENTENCE = re.compile(r"^(?P<label>.+) \(\+(?P<points>[0-9]+(?:\.[0-9]+)?)\)$")
_HAZARD_SENTENCE = re.compile(
    r"^hazard intensity (?P<value>[0-9]+\.[0-9]+) in the union(?:, from (?P<evidence>.+))?$"
)
_FLAG_BY_LABEL = {label: flag for flag, label in FLAG_LABELS.items()}


@dataclass(frozen=True)
class Reason:
    """One score term: `term` is a FLAG_LABELS key or HAZARD, or "" for text not understood
    (kept whole in `text`)."""

    term: str
    points: float = 0.0
    intensity: float | None = None
    evidence: str | None = None
    text: str = ""


def flag_code(flag: str, points: float) -> str:
    return f"{flag}:{points:g}"


def hazard_code(intensity: float, points: float, evidence: str | None) -> str:
    code = f"{HAZARD}:{points:.2f}:{intensity:.2f}"
    return f"{code}:{evidence}" if evidence else code


def parse(stored: str) -> Reason:
    """A stored reason, code or an older line's English sentence."""
    hazard = _HAZARD_CODE.match(stored)
    if hazard is not None:
        return Reason(HAZARD, float(hazard["points"]), float(hazard["value"]), hazard["evidence"])
    flag = _FLAG_CODE.match(stored)
    if flag is not None:
        known = flag["term"] in FLAG_LABELS
        return Reason(flag["term"], float(flag["points"])) if known else Reason("", text=stored)
    sentence = _SENTENCE.match(stored)
    if sentence is None:
        return Reason("", text=stored)
    points = float(sentence["points"])
    said = _HAZARD_SENTENCE.match(sentence["label"])
    if said is not None:
        return Reason(HAZARD, points, float(said["value"]), said["evidence"])
    term = _FLAG_BY_LABEL.get(sentence["label"])
    return Reason(term, points) if term else Reason("", text=stored)


def english(stored: str) -> str:
    """The reason as a sentence: 'person with disability (+3)',
    'hazard intensity 0.88 in the union, from 160.0 km/h (+3.50)'."""
    reason = parse(stored)
    if reason.term == HAZARD:
        evidence = f", from {reason.evidence}" if reason.evidence else ""
        value = f"{reason.intensity:.2f}"
        return f"hazard intensity {value} in the union{evidence} (+{reason.points:.2f})"
    if reason.term:
        return f"{FLAG_LABELS[reason.term]} (+{reason.points:g})"
    return reason.text
