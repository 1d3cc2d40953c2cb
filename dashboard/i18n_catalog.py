"""The message catalogue: read (and compile) the gettext .po file; fold legacy TOML into it.

Layout: `dashboard/locales/bn/LC_MESSAGES/agam.po`, one entry per key:

    msgctxt "overview_budget"      <- the key the code passes to t()
    msgid "Budget on lists"        <- English (the source text)
    msgstr "তালিকার বাজেট"          <- Bangla

Older code wrote strings to `dashboard/locales/strings.toml` ([key] en = "…", bn = "…"). While
that file exists its keys are served too (so a branch that added keys keeps working), and a
test fails until they are folded in with:

    python -m dashboard.i18n_catalog migrate    # strings.toml -> agam.po, then deletes it
    python -m dashboard.i18n_catalog check      # placeholders, plurals, missing Bangla
"""

from __future__ import annotations

import gettext
import io
import re
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

LOCALES = Path(__file__).resolve().parent / "locales"
PO_FILE = LOCALES / "bn" / "LC_MESSAGES" / "agam.po"
LEGACY_TOML = LOCALES / "strings.toml"
PLACEHOLDER = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class Entry:
    """English and Bangla forms of one key (one form, or singular/plural forms)."""

    en: tuple[str, ...]
    bn: tuple[str, ...]

    @property
    def plural(self) -> bool:
        return len(self.en) > 1


def _forms(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, tuple | list) else (str(value),)


def read_catalog(path: Path = PO_FILE) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale="bn", domain="agam")


@lru_cache(maxsize=1)
def _plural() -> Callable[[int], int]:
    return gettext.c2py(read_catalog().plural_expr)


def plural_index(n: int) -> int:
    """Which Bangla plural form (msgstr[i]) `n` takes, from the catalogue's Plural-Forms."""
    return int(_plural()(abs(int(n))))


def legacy_entries(path: Path = LEGACY_TOML) -> dict[str, Entry]:
    if not path.exists():
        return {}
    table = tomllib.loads(path.read_text("utf-8"))
    return {
        key: Entry((str(v["en"]),), (str(v.get("bn", "")),))
        for key, v in table.items()
        if isinstance(v, dict)
    }


@lru_cache(maxsize=1)
def catalog() -> dict[str, Entry]:
    """key -> Entry, compiled once per process from the .po file (+ legacy TOML)."""
    out = {
        str(m.context): Entry(_forms(m.id), _forms(m.string))
        for m in read_catalog()
        if m.id and m.context
    }
    for key, entry in legacy_entries().items():
        out.setdefault(key, entry)
    return out


def problems(entries: dict[str, Entry]) -> list[str]:
    """Every entry needs Bangla with the same placeholders as its English."""
    found = []
    for key, e in sorted(entries.items()):
        if not all(s.strip() for s in e.bn):
            found.append(f"{key}: no Bangla")
            continue
        want = set(PLACEHOLDER.findall(" ".join(e.en)))
        have = set(PLACEHOLDER.findall(" ".join(e.bn)))
        if want != have:
            found.append(f"{key}: placeholders {sorted(have)} differ from {sorted(want)}")
    return found


def migrate(po_path: Path = PO_FILE, toml_path: Path = LEGACY_TOML) -> list[str]:
    """Fold strings.toml into the .po file (new keys added, changed English updated), write
    it back sorted by key and delete the TOML. Returns what it did, one line per key."""
    legacy = legacy_entries(toml_path)
    target = read_catalog(po_path)
    done = []
    for key, entry in sorted(legacy.items()):
        existing = next((m for m in target if m.context == key), None)
        if existing is not None and _forms(existing.id) == entry.en:
            if entry.bn[0] and not existing.string:
                existing.string = entry.bn[0]
                done.append(f"{key}: Bangla filled in")
            continue
        if existing is not None:
            target.delete(existing.id, context=key)
        target.add(entry.en[0], entry.bn[0], context=key, flags=_flags(entry.en[0]))
        done.append(f"{key}: {'updated' if existing is not None else 'added'}")
    write_catalog(target, po_path)
    if toml_path.exists():
        toml_path.unlink()
    return done


def _flags(text: str) -> tuple[str, ...]:
    return ("python-brace-format",) if PLACEHOLDER.search(text) else ()


def write_catalog(target: Catalog, path: Path = PO_FILE) -> None:
    buffer = io.BytesIO()
    write_po(buffer, target, width=100, sort_output=False, omit_header=False)
    ordered = _sorted_po(buffer.getvalue().decode("utf-8"))
    path.write_text(ordered, encoding="utf-8")


def _sorted_po(text: str) -> str:
    """Header first, then entries by key, so diffs stay small."""
    blocks = [b for b in text.strip().split("\n\n") if b.strip()]
    header, entries = blocks[0], blocks[1:]

    def key(block: str) -> str:
        found = re.search(r'^msgctxt "(.*)"$', block, flags=re.MULTILINE)
        return found.group(1) if found else ""

    return "\n\n".join([header, *sorted(entries, key=key)]) + "\n"


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "migrate":
        for line in migrate():
            print(line)
        catalog.cache_clear()
        command = "check"
    if command == "check":
        found = problems(catalog())
        for line in found:
            print(line, file=sys.stderr)
        print(f"{len(catalog())} keys, {len(found)} problems")
        return 1 if found else 0
    print("usage: python -m dashboard.i18n_catalog [check|migrate]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
