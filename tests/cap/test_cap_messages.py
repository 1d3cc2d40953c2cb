"""CAP 1.2 messages: valid against the official OASIS schema, an Update references its Alert,
English and Bangla, polygons and P-code geocodes, and a drill never looks like a real alert."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from lxml import etree
from typer.testing import CliRunner

from agam.cli.main import app
from agam.pipeline.cap_publish import alert_messages
from agam.pipeline.context import AppContext
from store import alert_repo
from store.user_repo import authenticate

from .conftest import CAP, KURIGRAM, T0

runner = CliRunner()


PASSWORD = "a long test password"


def parse(document: bytes) -> etree._Element:
    return etree.fromstring(document)


def text(root: etree._Element, path: str) -> str:
    return root.findtext(path, namespaces=CAP)


def test_messages_validate_and_updates_reference_earlier_ones(
    cap_site: Callable[..., AppContext], cap_schema: etree.XMLSchema
) -> None:
    ctx = cap_site()
    messages = alert_messages(ctx, 1)
    roots = [parse(doc) for _, doc in messages]
    for root in roots:
        assert cap_schema.validate(root), cap_schema.error_log

    alert, update, all_clear = roots
    assert [text(r, "cap:msgType") for r in roots] == ["Alert", "Update", "Update"]
    assert [text(r, "cap:status") for r in roots] == ["Actual"] * 3
    assert text(alert, "cap:sent") == "2026-07-04T12:00:00+06:00"  # Dhaka offset, never Z
    triple = ",".join(text(alert, f"cap:{k}") for k in ("sender", "identifier", "sent"))
    assert text(update, "cap:references") == triple
    assert text(all_clear, "cap:references").split() == [
        triple,
        ",".join(text(update, f"cap:{k}") for k in ("sender", "identifier", "sent")),
    ]
    assert {text(r, "cap:incidents") for r in roots} == {"BD-AGAM.alert-1"}
    assert alert.find("cap:references", CAP) is None

    infos = update.findall("cap:info", CAP)
    assert [text(i, "cap:language") for i in infos] == ["en-US", "bn-BD"]
    en, bn = infos
    assert (text(en, "cap:urgency"), text(en, "cap:severity"), text(en, "cap:certainty")) == (
        "Expected",
        "Severe",
        "Likely",
    )
    assert text(en, "cap:headline") == "Flood action alert: Kurigram district"
    assert text(bn, "cap:event") == "বন্যা"
    assert "কুড়িগ্রাম" in text(bn, "cap:headline")
    assert text(en, "cap:expires") == "2026-07-09T12:00:00+06:00"  # the forecast window end
    assert text(alert.find("cap:info", CAP), "cap:urgency") == "Future"  # readiness
    ended = all_clear.find("cap:info", CAP)
    assert (text(ended, "cap:urgency"), text(ended, "cap:responseType")) == ("Past", "AllClear")

    area = en.find("cap:area", CAP)
    codes = [g.findtext("cap:value", namespaces=CAP) for g in area.findall("cap:geocode", CAP)]
    assert len(codes) == 12
    assert all(c.startswith(KURIGRAM) for c in codes)
    assert {
        g.findtext("cap:valueName", namespaces=CAP) for g in area.findall("cap:geocode", CAP)
    } == {"PCODE"}
    first_area_codes = [
        g.findtext("cap:value", namespaces=CAP)
        for g in alert.find("cap:info/cap:area", CAP).findall("cap:geocode", CAP)
    ]
    assert first_area_codes == codes[:3]  # readiness covered its own unions
    polygons = [p.text for p in area.findall("cap:polygon", CAP)]
    assert polygons
    for polygon in polygons:
        pairs = polygon.split()
        assert len(pairs) >= 4
        assert pairs[0] == pairs[-1]
        assert len(pairs) - 1 <= ctx.settings.cap.max_polygon_vertices
        for pair in pairs:
            lat, lon = map(float, pair.split(","))
            assert 20 < lat < 27  # lat,lon order, inside Bangladesh
            assert 88 < lon < 93


def test_closing_an_alert_cancels_its_messages(
    cap_site: Callable[..., AppContext], cap_schema: etree.XMLSchema
) -> None:
    ctx = cap_site()
    with ctx.store.session() as session:
        officer = authenticate(session, "officer.kurigram", PASSWORD, T0, "test").principal
    assert officer is not None
    with ctx.store.session() as session:
        alert = alert_repo.get_alert(session, 1)
        alert.status = "open"
        alert_repo.close_alert(session, 1, officer, "river fell", T0 + timedelta(days=7))
    cancel = parse(alert_messages(ctx, 1)[-1][1])
    assert cap_schema.validate(cancel), cap_schema.error_log
    assert text(cancel, "cap:msgType") == "Cancel"
    assert len(text(cancel, "cap:references").split()) == 3


def test_scenario_alerts_are_exercises(
    cap_site: Callable[..., AppContext], cap_schema: etree.XMLSchema
) -> None:
    ctx = cap_site(trigger="scenario:flood")
    for _, document in alert_messages(ctx, 1):
        root = parse(document)
        assert cap_schema.validate(root), cap_schema.error_log
        assert text(root, "cap:status") == "Exercise"
        assert "SYNTHETIC" in text(root, "cap:note")
        for info in root.findall("cap:info", CAP):
            assert text(info, "cap:headline").startswith(("EXERCISE: ", "মহড়া: "))


def test_replayed_alerts_are_tests(cap_site: Callable[..., AppContext]) -> None:
    ctx = cap_site(trigger="replay")
    assert {text(parse(d), "cap:status") for _, d in alert_messages(ctx, 1)} == {"Test"}


def test_the_schema_check_can_fail(
    cap_site: Callable[..., AppContext], cap_schema: etree.XMLSchema
) -> None:
    document = alert_messages(cap_site(), 1)[0][1]
    assert cap_schema.validate(parse(document))
    for mutate in (
        lambda r: setattr(r.find("cap:sent", CAP), "text", "2026-07-04T06:00:00Z"),  # no "Z"
        lambda r: r.remove(r.find("cap:sender", CAP)),
        lambda r: setattr(r.find("cap:msgType", CAP), "text", "Warning"),
        lambda r: setattr(r.find("cap:info/cap:urgency", CAP), "text", "Soon"),
    ):
        root = parse(document)
        mutate(root)
        assert not cap_schema.validate(root)


def test_large_areas_are_simplified(
    cap_site: Callable[..., AppContext], cap_schema: etree.XMLSchema, union_layer
) -> None:
    ctx = cap_site(unions=500)  # every union of Kurigram
    everyone = len(union_layer.unions_in([KURIGRAM]))
    root = parse(alert_messages(ctx, 1)[1][1])
    assert cap_schema.validate(root), cap_schema.error_log
    area = root.find("cap:info/cap:area", CAP)
    assert len(area.findall("cap:geocode", CAP)) == everyone > 60
    assert f"and {everyone - 25} more" in text(area, "cap:areaDesc")
    bangla = root.findall("cap:info", CAP)[1]
    assert text(bangla, "cap:language") == "bn-BD"
    area_bn = text(bangla.find("cap:area", CAP), "cap:areaDesc")
    rest_bn = str(everyone - 25).translate(str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯"))
    assert area_bn.endswith(f"এবং আরও {rest_bn}টি")
    assert not re.search(r"[0-9]", area_bn), area_bn  # Bengali digits; every name in Bangla
    for polygon in area.findall("cap:polygon", CAP):
        assert len(polygon.text.split()) <= ctx.settings.cap.max_polygon_vertices + 1


def test_cli_writes_a_valid_message(
    cap_site: Callable[..., AppContext], cap_schema: etree.XMLSchema, tmp_path
) -> None:
    cap_site()
    out = tmp_path / "alert.xml"
    result = runner.invoke(app, ["alerts", "cap", "1", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    root = etree.parse(str(out)).getroot()
    assert cap_schema.validate(root)
    assert text(root, "cap:msgType") == "Update"  # the newest change: the stand-down
    result = runner.invoke(app, ["alerts", "cap", "1", "--event", "1"])
    assert result.exit_code == 0, result.stderr
    assert text(parse(result.stdout_bytes), "cap:msgType") == "Alert"
    result = runner.invoke(app, ["alerts", "cap", "9"])
    assert result.exit_code == 1
    assert "no alert 9" in result.stderr


@pytest.mark.parametrize("bad", ["with space", "a,b", "x<y"])
def test_sender_must_be_cap_safe(bad: str) -> None:
    from pydantic import ValidationError

    from agam.core.settings import CapSettings

    with pytest.raises(ValidationError):
        CapSettings(sender=bad)
