"""Payment CSV through the real export vs pyarrow writing the same rows, in one run.

A SYNTHETIC registry of one district (allowances.synthetic on the real unions of that
district) is imported, one list is proposed for all its unions (timed too), submitted and
approved by two signed-in accounts (both timed: the approval seals the payment snapshot), then
exported with `export_payment_files` - the path the CLI and the dashboard use: approval and
hash check, the sealed payees read from the store and hashed again, unsafe-cell refusal, CSV
per channel, sha256 per file, manifest. The baseline is `pyarrow.csv.write_csv`
of exactly the rows Agam wrote (read back from its files), already in memory. Both are
timed `--repeat` times (a re-export writes the same files again) and the best of each
is compared, the slowest printed beside it: one run of either varies by 2-4x here.

    python -m benchmarks.export [--households 120000] [--district BD5088] [--database-url URL]
                                [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv

from allowances.lists import decide_list, propose
from allowances.payment_files import export_payment_files
from allowances.policy import load_policy
from allowances.registry_import import import_registry
from allowances.synthetic import generate_registry
from boundaries.layer import UnionLayer, load_union_layer
from store.db import Store
from store.models import Alert, Evaluation
from store.user_repo import add_user, authenticate

T0 = datetime(2025, 7, 4, 6, 0, tzinfo=UTC)
PASSWORD = "a long benchmark password"


def _district_layer(layer: UnionLayer, district: str) -> UnionLayer:
    frame = layer.frame[layer.frame["adm2_pcode"] == district].reset_index(drop=True)
    return UnionLayer(frame, layer.source, layer.report)


def _seed(store: Store, district: str, unions: list[str]) -> None:
    with store.session() as session:
        for name, role in (("officer", "officer"), ("dc", "district_admin")):
            add_user(session, username=name, role=role, districts=[district],
                     password=PASSWORD, display_name=name, at=T0)  # fmt: skip
        evaluation = Evaluation(input_key="bench", rule_set_id="ocha_cerf_flood_2025",
                                rule_set_version="1", stage="action", as_of=T0, state="met",
                                explanation="benchmark", created_at=T0)  # fmt: skip
        session.add(evaluation)
        session.flush()
        session.add(Alert(rule_set_id="ocha_cerf_flood_2025", rule_set_version="1",
                          district_pcode=district, stage="action", status="open", opened_at=T0,
                          updated_at=T0, first_evaluation_id=evaluation.id,
                          last_evaluation_id=evaluation.id, affected_unions=unions))  # fmt: skip


def _sign_in(store: Store, username: str) -> object:
    with store.session() as session:
        result = authenticate(session, username, PASSWORD, T0, "benchmark")
    assert result.principal is not None, result.message
    return result.principal


def _as_text(table: pa.Table) -> pa.Table:
    return table.cast(pa.schema([(name, pa.string()) for name in table.schema.names]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--households", type=int, default=120_000)
    parser.add_argument("--district", default="BD5088", help="ADM2 P-code (BD5088 Sirajganj)")
    parser.add_argument("--database-url", default=os.environ.get("AGAM_BENCH_DATABASE_URL"))
    parser.add_argument("--repeat", type=int, default=3, help="exports and writes timed (best)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores)")
    layer = load_union_layer()
    district = _district_layer(layer, args.district)
    unions = sorted(district.frame["adm4_pcode"])
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        generate_registry(district, args.households, 7, tmp / "registry.parquet")
        store = Store(args.database_url or f"sqlite:///{tmp / 'agam.sqlite3'}")
        store.upgrade()
        _seed(store, args.district, unions)
        import_registry(store, tmp / "registry.parquet", layer)
        start = time.perf_counter()
        with store.session() as session:
            list_id = propose(session, alert_id=1, district_pcode=args.district,
                              union_codes=unions, union_intensity={}, policy=load_policy(),
                              prepared_by="system", at=T0, synthetic=True).id  # fmt: skip
        propose_s = time.perf_counter() - start
        decided = {}
        for who, action in (("officer", "submit"), ("dc", "approve")):
            principal = _sign_in(store, who)
            start = time.perf_counter()  # as the dashboard and the CLI decide
            assert decide_list(store, list_id, principal, action, T0).id == list_id  # type: ignore[arg-type]
            decided[action] = time.perf_counter() - start
        approver = _sign_in(store, "dc")
        agam_times, base_times = [], []
        for _ in range(args.repeat):  # a re-export writes the same files again
            start = time.perf_counter()
            result = export_payment_files(store, list_id, approver, "csv", tmp / "out", T0)  # type: ignore[arg-type]
            agam_times.append(time.perf_counter() - start)
        files = sorted(result.folder.glob("*.csv"))
        table = pa.concat_tables(_as_text(pcsv.read_csv(f)) for f in files)
        for _ in range(args.repeat):
            start = time.perf_counter()
            pcsv.write_csv(table, tmp / "baseline.csv")
            base_times.append(time.perf_counter() - start)
        agam_s, base_s = min(agam_times), min(base_times)
        backend = store.engine.dialect.name
        print(
            f"{backend}: propose (read the district's registry, score, rank, cap, write "
            f"{result.manifest['rows']:,} lines and pin their payees): {propose_s:6.2f} s"
        )
        print(
            f"{backend}: submit (hash every line) {decided['submit']:6.2f} s; approve (hash "
            f"check, and seal the payment snapshot the export reads) {decided['approve']:6.2f} s"
        )
        print(
            f"{backend}: payment CSV of {result.manifest['rows']:,} lines in {len(files)} "
            f"file(s), best of {args.repeat}: agam export_payment_files {agam_s:6.2f} s "
            f"(slowest {max(agam_times):.2f} s), pyarrow write_csv of the same rows "
            f"{base_s:6.2f} s (slowest {max(base_times):.2f} s), ratio {agam_s / base_s:.1f}x  "
            f"(load average now {os.getloadavg()[0]:.2f})"
        )
        store.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
