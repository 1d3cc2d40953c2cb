"""A list whose payment results the provider has returned is not exported again: a second
file of a paid batch could pay the same households twice. Before any result, a lost file may
be exported again (the same batch id and dedup keys)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import DatabaseError

from agam.core.errors import InvalidTransition, PaymentFileError
from allowances.payment_files import export_payment_files
from allowances.payment_results import import_results
from store import payment_repo
from store.db import Store
from tests.payments.test_payment_results import (
    T0,
    approved_and_exported,
    result,
    write_return,
)


def test_export_again_before_results_then_refused_after(
    store: Store, draft_id: int, who: Callable[[str], Any], tmp_path: Path, outdir: Path
) -> None:
    exported = approved_and_exported(store, draft_id, who, outdir)
    again = export_payment_files(store, draft_id, who("dc.kurigram"), "csv", tmp_path / "b", T0)
    assert again.manifest["batch_id"].startswith("AGAM-")  # a lost file can be sent again
    returned = write_return(tmp_path / "r.csv", [result(exported[0], "failed")])
    import_results(store, draft_id, who("officer.kurigram"), returned, T0)
    with pytest.raises(InvalidTransition, match="returned results for 1 of its lines"):
        export_payment_files(store, draft_id, who("dc.kurigram"), "csv", tmp_path / "c", T0)
    assert not (tmp_path / "c").exists() or not any((tmp_path / "c").iterdir())


def test_the_database_refuses_the_export_decision_after_results(
    store: Store,
    draft_id: int,
    who: Callable[[str], Any],
    tmp_path: Path,
    outdir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exported = approved_and_exported(store, draft_id, who, outdir)
    returned = write_return(tmp_path / "r.csv", [result(exported[0], "paid")])
    import_results(store, draft_id, who("officer.kurigram"), returned, T0)
    monkeypatch.setattr(payment_repo, "results_recorded", lambda session, list_id: 0)
    with pytest.raises(DatabaseError, match="it is not exported again"):
        export_payment_files(store, draft_id, who("dc.kurigram"), "csv", tmp_path / "c", T0)


def test_an_export_again_never_replaces_the_earlier_folder(
    store: Store, draft_id: int, who: Callable[[str], Any], tmp_path: Path, outdir: Path
) -> None:
    """The first batch folder (files already sent, a return file put beside them) stays;
    the second export goes beside it."""
    approved_and_exported(store, draft_id, who, outdir)
    [first] = [p for p in outdir.iterdir() if not p.name.startswith(".")]
    (first / "provider_return.csv").write_text("kept", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in first.iterdir()}
    again = export_payment_files(store, draft_id, who("dc.kurigram"), "xlsx", outdir, T0)
    assert again.folder == outdir / f"{first.name}.again-2"
    assert {p.name: p.read_bytes() for p in first.iterdir()} == before
    assert again.manifest["batch_id"] == first.name  # the same batch for the provider
    third = export_payment_files(store, draft_id, who("dc.kurigram"), "csv", outdir, T0)
    assert third.folder.name == f"{first.name}.again-3"


def test_an_export_into_a_file_is_refused_in_one_line(
    store: Store, draft_id: int, who: Callable[[str], Any], tmp_path: Path, outdir: Path
) -> None:
    approved_and_exported(store, draft_id, who, outdir)
    a_file = tmp_path / "afile"
    a_file.write_text("x", encoding="utf-8")
    with pytest.raises(PaymentFileError, match="afile: not a folder"):
        export_payment_files(store, draft_id, who("dc.kurigram"), "csv", a_file, T0)
    assert a_file.read_text(encoding="utf-8") == "x"
