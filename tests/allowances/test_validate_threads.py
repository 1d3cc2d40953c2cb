"""Checking chunks on several threads gives the same rows, hashes and errors, in the same
order, as checking them one after the other."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from allowances.registry_read import open_reader
from allowances.registry_schema import load_aliases
from allowances.registry_validate import ChunkResult, Context, validate_all
from allowances.synthetic import generate_registry
from boundaries.layer import UnionLayer


def _results(path: Path, ctx: Context, workers: int) -> list[ChunkResult]:
    return list(validate_all(open_reader(path, 37).chunks(), ctx, workers))


def test_threads_check_exactly_like_one(tmp_path: Path, union_layer: UnionLayer) -> None:
    path = tmp_path / "registry.csv"
    generate_registry(union_layer, 150, 5, path, fmt="csv")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[frame.index[::17], "nid"] = "12AB"  # bad cells spread over many chunks
    frame.loc[frame.index[5::23], "adm4_pcode"] = "BD99999999"
    path = tmp_path / "registry.parquet"  # read in chunks of 37 rows
    frame.to_parquet(path, index=False)
    codes = pa.array(union_layer.frame["adm4_pcode"].astype(str).tolist(), pa.string())
    ctx = Context(path.name, codes, load_aliases(), 2025)
    one, many = _results(path, ctx, 1), _results(path, ctx, 3)
    assert len(one) == len(many) >= 5
    for a, b in zip(one, many, strict=True):
        assert a.valid.equals(b.valid)
        assert a.ids.equals(b.ids)
        assert a.rows == b.rows
        assert [(i.tolist(), f, r.tolist()) for i, f, r in a.errors] == [
            (i.tolist(), f, r.tolist()) for i, f, r in b.errors
        ]
    assert sum(len(e[0]) for r in many for e in r.errors) > 10
