"""benchmarks.tick's phase timer: calls from any thread are summed, originals put back."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest

from allowances import lists
from benchmarks import tick
from store import frames, list_repo


def test_phases_are_summed_over_threads_and_the_originals_restored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    for module, name in ((frames, "beneficiaries_for_unions"), (lists, "household_lines"),
                         (list_repo, "create_list")):  # fmt: skip
        monkeypatch.setattr(module, name, lambda *a, _n=name, **k: calls.append(_n))
    stubs = (frames.beneficiaries_for_unions, lists.household_lines, list_repo.create_list)
    clock = itertools.count()  # each reading one second later: no wall clock in the test
    monkeypatch.setattr(tick.time, "perf_counter", lambda: float(next(clock)))

    def read(*args: Any) -> None:
        frames.beneficiaries_for_unions("session", ["BD55490911"])

    with tick.timed_phases() as spent:
        worker = threading.Thread(target=read)
        worker.start()
        worker.join()
        lists.household_lines("frame")
        lists.household_lines("frame")
        list_repo.create_list("session")
    assert spent == {"registry reads": 1.0, "scoring": 2.0, "lines and payees": 1.0}
    assert calls == ["beneficiaries_for_unions", "household_lines", "household_lines",
                     "create_list"]  # fmt: skip
    assert (frames.beneficiaries_for_unions, lists.household_lines, list_repo.create_list) == stubs
