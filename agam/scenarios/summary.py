"""What the store holds after a demo: alerts by stage and district, proposed lists, money."""

from __future__ import annotations

from collections import Counter
from typing import Any

from agam.core.timeutil import format_dhaka, iso_utc
from agam.pipeline.context import AppContext
from boundaries.schema import name_en, pcode
from store import alert_repo, list_repo


def district_names(ctx: AppContext) -> dict[str, str]:
    frame = ctx.union_layer().frame
    pairs = frame[[pcode(2), name_en(2)]].drop_duplicates()
    return dict(zip(pairs[pcode(2)], pairs[name_en(2)], strict=True))


def store_summary(ctx: AppContext) -> dict[str, Any]:
    names = district_names(ctx)
    with ctx.store.read() as session:
        alerts = [a for a in alert_repo.all_alerts(session) if a.status == "open"]
        lists = list_repo.lists_for(session)
        alert_rows = [
            {
                "alert_id": a.id,
                "rule_set": a.rule_set_id,
                "district_pcode": a.district_pcode,
                "district": names.get(a.district_pcode, a.district_pcode),
                "stage": a.stage,
                "opened_at": iso_utc(a.opened_at),
                "opened_bst": format_dhaka(a.opened_at),
                "unions": len(a.affected_unions or []),
            }
            for a in sorted(alerts, key=lambda a: (a.rule_set_id, a.district_pcode))
        ]
        current = [row for row in lists if row.status not in ("superseded", "rejected")]
        list_rows = [
            {
                "list_id": row.id,
                "alert_id": row.alert_id,
                "district_pcode": row.district_pcode,
                "district": names.get(row.district_pcode, row.district_pcode),
                "status": row.status,
                "households": row.households,
                "total_bdt": row.total_bdt,
            }
            for row in sorted(current, key=lambda r: (r.district_pcode, r.id))
        ]
    return {
        "alerts": alert_rows,
        "alerts_by_stage": dict(Counter(r["stage"] for r in alert_rows)),
        "lists": list_rows,
        "lists_by_status": dict(Counter(r["status"] for r in list_rows)),
        "households": sum(r["households"] for r in list_rows),
        "total_bdt": sum(r["total_bdt"] for r in list_rows),
    }
