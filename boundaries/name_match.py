"""Matching English place names of two sources (BBS unions and a gazetteer) that spell them
differently, without ever giving two places one name.

Used by `scripts/build_union_layer.py` to join Bangla names; nothing here runs in the app. A
name's key keeps its direction (Uttar / North, Dakshin / South, Purba / East, Paschim / West,
written before the name or in brackets after it), so "Kalocho (North)" and "Kalocho (South)"
stay two places. Matching is one to one within a parent unit: the same key first, then the
same key with the vowels romanisations disagree on folded, then the closest spelling with the
same direction, and only where no other pairing is as good.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

FUZZY_CUTOFF = 0.85
LAST_PAIR_CUTOFF = 0.75  # the one unit and one entry left of two equal lists, still alike
# BBS 2020 and gazetteer spellings of the same district names.
ALIASES = {
    "chittagong": "chattogram",
    "chattagram": "chattogram",
    "barishal": "barisal",
    "bogra": "bogura",
    "cumilla": "comilla",
    "jessore": "jashore",
    "nawabganj": "chapainawabganj",
    "maulvibazar": "moulvibazar",
    "netrakona": "netrokona",
    "jhalokati": "jhalakathi",
    "brahamanbaria": "brahmanbaria",
}
DIRECTIONS = {
    **dict.fromkeys(("north", "uttar", "uttor"), "N"),
    **dict.fromkeys(
        ("south", "dakshin", "dakkhin", "dakhin", "dokkhin", "dokhin", "dakshi", "dakkin"), "S"
    ),
    **dict.fromkeys(("east", "purba", "purbo"), "E"),
    **dict.fromkeys(("west", "paschim", "pashchim", "pachim", "poschim"), "W"),
}
GENERIC_WORDS = ("sadar", "upazila", "union", "paurashava", "pourashava")


def simplified_spelling(letters: str) -> str:
    """Lower-case letters with the transliteration variants folded (dh/d, sh/s, z/j, ...)."""
    text = ALIASES.get(letters, letters)
    text = text.replace("dh", "d").replace("th", "t").replace("bh", "b").replace("kh", "k")
    text = text.replace("sh", "s").replace("ch", "c").replace("z", "j").replace("y", "i")
    return re.sub(r"(.)\1+", r"\1", text).replace("ou", "o").replace("w", "o")


@dataclass(frozen=True)
class NameKey:
    base: str  # the name's letters, generic words and direction left out, spelling folded
    directions: tuple[str, ...]  # N / S / E / W, sorted

    def sounded(self) -> NameKey:
        """The key with the vowels romanisations disagree on folded (the inherent vowel as
        a or o, i or e: "Torabgonj" and "Torabgang", "Dadshee" and "Dadshi") and v, x, q as
        bh, ks, k."""
        text = self.base.replace("x", "ks").replace("v", "b").replace("q", "k")
        text = re.sub(r"[aou]", "a", re.sub(r"[ei]", "i", text))
        return NameKey(re.sub(r"(.)\1+", r"\1", text), self.directions)


MIN_GLUED = 4  # letters a glued direction must leave ("Uttara" stays one word)


def _split(word: str) -> list[str]:
    """A direction written together with the name ("Purbachandrapur", "Sadarsouth") apart."""
    if word in DIRECTIONS:
        return [word]
    for direction in sorted(DIRECTIONS, key=len, reverse=True):
        rest = len(word) - len(direction)
        if rest >= MIN_GLUED and word.startswith(direction):
            return [direction, word[len(direction) :]]
        if rest >= MIN_GLUED and word.endswith(direction):
            return [word[:rest], direction]
    return [word]


def _words(text: str) -> list[str]:
    return [part for word in re.findall(r"[a-z]+", text) for part in _split(word)]


def name_key(name: str) -> NameKey:
    """The key of a place name: its direction words, before or after the name or alone in
    brackets ("Kalocho (North)"); other bracketed text (a second name) and generic words
    ("Sadar", "Union") left out."""
    text = unicodedata.normalize("NFKD", str(name)).lower()
    words = _words(re.sub(r"\(.*?\)", " ", text))
    directions = [DIRECTIONS[w] for w in words if w in DIRECTIONS]
    for inner in re.findall(r"\((.*?)\)", text):
        said = _words(inner)
        if said and all(w in DIRECTIONS for w in said):
            directions += [DIRECTIONS[w] for w in said]
    rest = "".join(w for w in words if w not in DIRECTIONS and w not in GENERIC_WORDS)
    return NameKey(simplified_spelling(rest), tuple(sorted(directions)))


def match_names(
    units: Sequence[str], entries: Sequence[str], cutoff: float = FUZZY_CUTOFF
) -> dict[int, int]:
    """Unit position -> entry position, one to one. A key that one unit and one entry share
    matches them; a key more than one unit or entry holds matches none of them. Then the same
    with the vowels folded (`NameKey.sounded`). The rest pair by the closest spelling (plain
    or folded) of the same direction, at `cutoff` or above, best pairs first; a pair that
    ties with another pair for its unit or its entry is left out. An entry a key names is
    never given to another unit."""
    plain = [name_key(u) for u in units], [name_key(e) for e in entries]
    sounded = [k.sounded() for k in plain[0]], [k.sounded() for k in plain[1]]
    matched: dict[int, int] = {}
    taken: set[int] = set()
    blocked: set[int] = set()
    for keys_u, keys_e in (plain, sounded):
        left_u = [i for i in range(len(units)) if i not in matched and i not in blocked]
        same_e = _by_key(keys_e, [j for j in range(len(entries)) if j not in taken])
        for key, held in _by_key(keys_u, left_u).items():
            found = same_e.get(key, [])
            if len(held) == 1 and len(found) == 1:
                matched[held[0]] = found[0]
            elif found:
                blocked.update(held)  # a name two places share decides nothing
            taken.update(found)
    pairs = []
    for i in range(len(units)):
        if i in matched or i in blocked or not sounded[0][i].base:
            continue
        for j in range(len(entries)):
            if j in taken or not sounded[1][j].base:
                continue
            if plain[0][i].directions != plain[1][j].directions:
                continue
            score = max(
                _likeness(plain[0][i], plain[1][j]), _likeness(sounded[0][i], sounded[1][j])
            )
            if score >= cutoff:
                pairs.append((score, i, j))
    matched.update(_best_pairs(pairs))
    return matched


def _likeness(a: NameKey, b: NameKey) -> float:
    return difflib.SequenceMatcher(None, a.base, b.base).ratio()


def last_pair(
    units: Sequence[str],
    entries: Sequence[str],
    matched: Mapping[int, int],
    cutoff: float = LAST_PAIR_CUTOFF,
) -> tuple[int, int] | None:
    """The unit and entry `matched` left over, when the two lists are the same length (the
    unions of one upazila in both sources) and exactly one of each is left: by elimination
    they are one place, accepted if their directions agree and their spellings (plain or
    folded) are at least `cutoff` alike ("Phuljhury" and "Fuljhuri"); else None."""
    if len(units) != len(entries):
        return None
    taken = set(matched.values())
    left_u = [i for i in range(len(units)) if i not in matched]
    left_e = [j for j in range(len(entries)) if j not in taken]
    if len(left_u) != 1 or len(left_e) != 1:
        return None
    a, b = name_key(units[left_u[0]]), name_key(entries[left_e[0]])
    if a.directions != b.directions or not a.base or not b.base:
        return None
    if max(_likeness(a, b), _likeness(a.sounded(), b.sounded())) < cutoff:
        return None
    return left_u[0], left_e[0]


def _by_key(keys: Sequence[NameKey], positions: Sequence[int]) -> dict[NameKey, list[int]]:
    out: dict[NameKey, list[int]] = defaultdict(list)
    for position in positions:
        if keys[position].base:
            out[keys[position]].append(position)
    return out


def _best_pairs(pairs: list[tuple[float, int, int]]) -> dict[int, int]:
    """Greedy one-to-one assignment by score, refusing ties for a unit or an entry."""
    pairs.sort(key=lambda p: -p[0])
    used_units: set[int] = set()
    used_entries: set[int] = set()
    out: dict[int, int] = {}
    for score, i, j in pairs:
        if i in used_units or j in used_entries:
            continue
        rivals = [
            p for p in pairs
            if p[0] == score and (p[1] == i) != (p[2] == j)
            and p[1] not in used_units and p[2] not in used_entries
        ]  # fmt: skip
        used_units.add(i)
        used_entries.add(j)
        if not rivals:
            out[i] = j
    return out


def parent_by_children(
    children: Sequence[str], candidates: Mapping[object, Sequence[str]], least: int = 3
) -> object | None:
    """The candidate parent whose children's names match most of `children` by key (at least
    `least`, or all of them when there are fewer, and more than half), and strictly more than
    any other candidate's; else None. For a unit whose own name matched no parent (a renamed
    or respelled upazila): its unions say which one it is."""
    wanted = {name_key(c) for c in children if name_key(c).base}
    if not wanted:
        return None
    counts = sorted(
        ((len(wanted & {name_key(n) for n in names}), parent)
         for parent, names in candidates.items()),
        key=lambda c: -c[0],
    )  # fmt: skip
    if not counts:
        return None
    best, parent = counts[0]
    runner_up = counts[1][0] if len(counts) > 1 else 0
    if best < min(least, len(wanted)) or best * 2 <= len(wanted) or best == runner_up:
        return None
    return parent
