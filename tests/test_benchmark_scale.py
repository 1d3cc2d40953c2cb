"""The 40 M-household plan of benchmarks.registry: the line through two measured runs, the
disk sampler, and the verdict against the machine."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest

from benchmarks import registry_scale
from benchmarks.registry_scale import Run, extrapolate, fits, peak_disk


def test_extrapolation_is_the_line_through_both_runs() -> None:
    small = Run(1_000_000, 1_100_000, 13.0, 1_000.0, 1_000_000_000)
    large = Run(4_000_000, 4_400_000, 61.0, 1_300.0, 4_600_000_000)
    at = extrapolate(small, large, 40_000_000)
    assert at == Run(40_000_000, 44_000_000, 637.0, 4_900.0, 47_800_000_000)
    assert extrapolate(small, large, 4_000_000) == large


def test_the_sampler_sees_a_file_removed_before_the_end(tmp_path: Path) -> None:
    (tmp_path / "kept").write_bytes(b"x" * 1_000)
    with peak_disk(tmp_path) as peak:
        spill = tmp_path / "spill"
        spill.write_bytes(b"y" * 50_000)
        time.sleep(registry_scale.SAMPLE_SECONDS * 3)
        spill.unlink()
    assert peak() == 51_000


def test_the_sampler_counts_open_files_that_have_no_name(tmp_path: Path) -> None:
    """An import's spill is unlinked as soon as it is made: still counted while open."""
    with peak_disk(tmp_path) as peak, tempfile.TemporaryFile(dir=tmp_path) as spill:
        spill.write(b"z" * 70_000)
        spill.flush()
        time.sleep(registry_scale.SAMPLE_SECONDS * 3)
    assert peak() == 70_000
    assert registry_scale.folder_bytes(tmp_path) == 0


@pytest.mark.parametrize(
    ("disk", "peak_mb", "seconds", "expected"),
    [(10e9, 1_500.0, 600.0, True), (25e9, 1_500.0, 600.0, False),
     (10e9, 30_000.0, 600.0, False), (10e9, 1_500.0, 1_000.0, False)],
)  # fmt: skip
def test_the_full_run_fits_only_with_both_databases_and_both_times(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    disk: float,
    peak_mb: float,
    seconds: float,
    expected: bool,
) -> None:
    """Two back ends, each predicted alike; the full run holds and times Agam's import and
    the pandas baseline on both: 4 x disk against 80 % of 50 GB, 4 x time against 60 min."""
    monkeypatch.setattr(registry_scale, "machine_memory_mb", lambda: 24_000.0)
    one = Run(40_000_000, 44_000_000, seconds, peak_mb, int(disk))
    assert fits([one, one], free_bytes=int(50e9), max_minutes=60) is expected
    out = capsys.readouterr().out
    assert f"about {4 * disk / 1e9:,.1f} GB of disk" in out


def test_without_the_baseline_the_run_needs_half(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--skip-baseline`: Agam's import alone, once the disk and the time of one back end."""
    monkeypatch.setattr(registry_scale, "machine_memory_mb", lambda: 24_000.0)
    one = Run(40_000_000, 44_000_000, 900.0, 1_500.0, int(30e9))
    assert fits([one], free_bytes=int(50e9), max_minutes=60, baseline=False)
    assert "Agam alone on 1 back end(s)): about 30.0 GB" in capsys.readouterr().out
    assert not fits([one], free_bytes=int(50e9), max_minutes=60)
