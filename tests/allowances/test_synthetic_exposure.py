"""Synthetic registries pass the importer and are labelled; exposure equals a pandas groupby."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from allowances.exposure import COUNT_COLUMNS, exposure_by_union
from allowances.registry_import import import_registry
from allowances.registry_stats import registry_stats
from allowances.synthetic import generate_registry, union_weights
from boundaries.layer import UnionLayer
from store.db import Store
from store.list_repo import registry_is_synthetic
from store.models import Beneficiary, RegistryImport

AT = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture
def synthetic_file(union_layer: UnionLayer, tmp_path: Path) -> Path:
    return generate_registry(union_layer, 3_000, 11, tmp_path / "syn.parquet", year=2025).path


def test_generator_is_deterministic_and_labelled(
    union_layer: UnionLayer, tmp_path: Path, synthetic_file: Path
) -> None:
    again = generate_registry(union_layer, 3_000, 11, tmp_path / "again.parquet", year=2025)
    assert synthetic_file.read_bytes() == again.path.read_bytes()
    frame = pq.read_table(synthetic_file).to_pandas()
    assert frame["synthetic"].all()
    assert frame["beneficiary_id"].str.startswith("SYN-").all()
    nids = pd.concat([frame["nid"].dropna(), frame["birth_registration"].dropna()])
    assert nids.str.fullmatch(r"9999[01][0-9]{12}").all()
    assert set(frame["programme"]) <= {"old_age", "widow", "disability", "mcbp", "vwb", "other"}
    assert frame["programme"].value_counts().idxmax() == "old_age"


def test_union_weights_follow_population(union_layer: UnionLayer) -> None:
    weights = union_weights(union_layer)
    assert weights["weight"].sum() == pytest.approx(1.0)
    district = weights.groupby("adm2_pcode")["population"].sum()
    assert (
        district["BD3026"] > district["BD5549"] > district["BD1042"]
    )  # Dhaka > Kurigram > Jhalokati


def test_generated_registry_imports_as_synthetic(
    store: Store, union_layer: UnionLayer, synthetic_file: Path
) -> None:
    report = import_registry(store, synthetic_file, union_layer, at=AT)
    assert report.status == "imported"
    assert report.errors_total == 0
    assert report.synthetic
    assert report.inserted == report.total
    with store.session() as session:
        assert session.scalars(select(RegistryImport.synthetic)).one() is True
        assert registry_is_synthetic(session)
    stats = registry_stats(store, union_layer)
    assert stats["synthetic_share"] == 1.0
    assert stats["beneficiaries"] == report.total
    assert sum(stats["by_programme"].values()) == report.total


def test_exposure_equals_pandas_groupby(
    store: Store, union_layer: UnionLayer, synthetic_file: Path
) -> None:
    import_registry(store, synthetic_file, union_layer, at=AT)
    with store.engine.connect() as conn:
        b = pd.read_sql(select(Beneficiary), conn)
    b["elderly"] = b["birth_year"] <= AT.year - 65
    b["kids"] = b["children_under5"] > 0
    flags = {
        "households_female_headed": "female_headed",
        "households_disability": "disability",
        "households_elderly": "elderly",
        "households_pregnant_lactating": "pregnant_lactating",
        "households_children_under5": "kids",
        "households_char_resident": "char_resident",
    }

    def expected(keys: list[str]) -> pd.DataFrame:
        out = b.groupby(keys).agg(
            households=("household_id", "nunique"), beneficiaries=("beneficiary_id", "size")
        )
        for column, flag in flags.items():
            out[column] = b[b[flag].astype(bool)].groupby(keys)["household_id"].nunique()
        return out.fillna(0).astype("int64")

    per_programme = exposure_by_union(store, programme=None)
    per_programme = per_programme[per_programme["programme"] != "all"]
    got = per_programme.set_index(["adm4_pcode", "programme"])[list(COUNT_COLUMNS)]
    want = expected(["adm4_pcode", "programme"])[list(COUNT_COLUMNS)]
    pd.testing.assert_frame_equal(got.sort_index(), want.sort_index(), check_names=False)
    total = exposure_by_union(store).set_index("adm4_pcode")[list(COUNT_COLUMNS)]
    want_total = expected(["adm4_pcode"])[list(COUNT_COLUMNS)]
    pd.testing.assert_frame_equal(total.sort_index(), want_total.sort_index(), check_names=False)


def test_store_never_mixes_synthetic_and_real(
    store: Store, union_layer: UnionLayer, synthetic_file: Path, defects_csv: Path
) -> None:
    from agam.core.errors import RegistryError

    import_registry(store, synthetic_file, union_layer, at=AT)
    with pytest.raises(RegistryError, match="holds synthetic registry data"):
        import_registry(store, defects_csv, union_layer, quarantine=True, at=AT)
