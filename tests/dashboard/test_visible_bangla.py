"""Every string a page shows in Bangla is Bangla: headers, captions, widget labels and
options, table headers and cells, metric labels, chart titles, legends and labels, and the
map component's labels. Latin is allowed only for names that are not translated (P-codes,
user names, model and agency acronyms, dataset identifiers)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from agam.core.settings import GrievanceSettings
from allowances import grievance_register as register
from allowances.grievances import NewGrievance
from dashboard.nav import ALL_PAGES, ROLE_PAGES
from store.db import Store
from store.models import Activation, Alert
from store.user_repo import authenticate

from .conftest import ACCOUNTS, OBSERVED, make_alert, make_list

# Words that stay in Latin script in a Bangla page: acronyms of agencies and models, the
# product's name, file formats, the demo's label of synthetic data, the command it names.
KEEP = {
    "Agam", "English", "GloFAS", "FFWC", "GDACS", "BMD", "IMD", "ECMWF", "GFS", "JTWC",
    "SYNTHETIC", "agam", "demo", "csv", "xlsx", "OCHA", "CERF", "BDRCS", "COD-AB",
}  # fmt: skip
CODE = re.compile(
    r"^(BD\d{2,10}|SW\d+(\.\d+)?[LR]?|SYNH?-[0-9A-Z-]+|[a-z]+(\.[a-z]+)+|[0-9a-f]{12,}|admin"
    r"|L\d+-\d+)$"  # line references, quoted back by the provider's return file
)


MARKUP = re.compile(r":[a-z]+-badge\[|:material/[a-z_]+:|`[^`]*`")


def _words(text: str) -> list[str]:
    """Latin words, once Streamlit's markup (badges, icons, code spans) is taken out."""
    text = MARKUP.sub(" ", text)
    return re.findall(r"[A-Za-z][A-Za-z0-9_.\-]*[A-Za-z0-9]|[A-Za-z]", text)


def untranslated(texts: list[str], dataset_words: set[str]) -> list[str]:
    bad = []
    for text in texts:
        words = [
            w
            for w in _words(text)
            if w not in KEEP and w not in dataset_words and not CODE.match(w)
        ]
        if words:
            bad.append(f"{text!r}: {words}")
    return bad


def _vega_texts(proto: Any) -> Iterator[str]:
    spec = json.loads(proto.spec)

    def walk(node: Any, key: str = "") -> Iterator[str]:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("labelExpr", "format", "$schema", "field", "type", "name"):
                    continue
                yield from walk(v, k)
        elif isinstance(node, list):
            for v in node:
                yield from walk(v, key)
        elif isinstance(node, str) and key in ("title", "domain", "text", "value"):
            yield node

    yield from walk(spec)
    for dataset in proto.datasets:
        table = pa.ipc.open_stream(dataset.data.data).read_all()
        for column in ("series", "state", "label", "when", "shown"):
            if column in table.column_names:
                yield from (str(v) for v in table.column(column).to_pylist())


def visible(at: AppTest) -> list[str]:
    """The strings a person sees on the page (sidebar included)."""
    out: list[str] = []
    for kind in ("title", "header", "subheader", "caption", "markdown", "text", "info",
                 "warning", "error", "success", "exception"):  # fmt: skip
        out += [str(e.value) for e in getattr(at, kind)]
    for metric in at.metric:
        out += [metric.label, str(metric.value)]
    for kind in ("button", "toggle", "text_input", "number_input", "date_input", "time_input"):
        out += [str(e.label) for e in getattr(at, kind)]
    out += [str(e.proto.label) for e in at.get("download_button")]
    for kind in ("selectbox", "multiselect", "radio"):
        for e in getattr(at, kind):
            out += [str(e.label), *(str(o) for o in e.options)]
            empty = e.value is None or (kind == "multiselect" and not e.value)
            if kind != "radio" and empty:  # the placeholder shows; Streamlit's is English
                out.append(str(e.proto.placeholder) or "Choose an option")
    for e in at.expander:
        out.append(str(e.label))
    for frame in at.dataframe:
        value = frame.value
        out += [str(c) for c in value.columns]
        for column in value.columns:
            if value[column].dtype == object:
                out += [str(v) for v in value[column].dropna().unique()[:50]]
    for chart in at.get("vega_lite_chart"):
        out += list(_vega_texts(chart.proto))  # type: ignore[attr-defined]
    for component in at.get("component_instance"):
        args = json.loads(component.proto.json_args)  # type: ignore[attr-defined]
        out += list(args.get("labels", {}).values())
        out.append(args.get("credits", ""))
        out += [item["label"] for item in args.get("legend", [])]
        for overlay in args.get("overlays", []):
            out += [overlay["label"], *overlay.get("legend", [])]
            out += [p["name"] for p in overlay.get("points", [])]
    return [s for s in out if s.strip()]


@pytest.fixture
def content(accounts: Store) -> Store:
    """An open action alert with its evidence and a submitted list in Kurigram."""
    now = datetime.now(UTC) - timedelta(hours=1)
    alert = make_alert(
        accounts,
        "BD5549",
        "action",
        at=now,
        unions=("BD55490911", "BD55490915"),
        explanation="FFWC forecasts 20.41 m at Bahadurabad: action met.",
        observed=OBSERVED,
    )
    make_list(accounts, alert, "BD5549", "submitted", 12, 60_000, now)
    with accounts.session() as session:  # the activation the pipeline opens with the alert
        activation = Activation(
            hazard="flood", label=f"jamuna flood season {now.year}", opened_at=now,
            last_active_at=now,
        )  # fmt: skip
        session.add(activation)
        session.flush()
        session.get(Alert, alert).activation_id = activation.id
    with accounts.session() as session:
        officer = authenticate(session, "officer.kurigram", "a long password", now, "t").principal
    with accounts.session() as session:  # a grievance in the activation's window
        register.record(
            session,
            officer,
            NewGrievance(
                received_at=now,
                channel="hotline",
                category="non_payment",
                adm4_pcode="BD55490911",
                description="not paid",
            ),
            now,
            GrievanceSettings(),
        )
    return accounts


def _dataset_words(settings: Any) -> set[str]:
    """The boundary source's own name and version (a citation, kept as published), and the
    accounts' user names (who decides is named as the account is)."""
    from agam.pipeline.context import AppContext
    from tests.dashboard.conftest import ACCOUNTS

    source = AppContext(settings).union_layer().info()["source"]
    names = " ".join(username for username, _ in ACCOUNTS.values())
    shown = names.replace(".", " ")  # as the page writes them, markdown-escaped: dc\.kurigram
    return set(_words(f"{source['name']} {source['version']} {names} {shown}"))


CASES = sorted(
    {(page, "admin") for page in ROLE_PAGES["admin"]}
    | {("lists", "district_admin"), ("lists", "officer"), ("overview", "officer")}
)


@pytest.mark.parametrize(("page", "role"), CASES)
def test_every_visible_string_has_bangla(
    view: Callable[..., AppTest], content: Store, settings: Any, page: str, role: str
) -> None:
    at = view(ALL_PAGES[page].file, role, lang="bn")
    assert not at.exception, at.exception
    texts = visible(at)
    assert len(texts) > 3, texts
    bad = untranslated(texts, _dataset_words(settings))
    assert not bad, "\n".join(bad)


def test_the_check_sees_english(view: Callable[..., AppTest], content: Store) -> None:
    """The same page in English is flagged: the test looks at what is really shown."""
    at = view("overview.py", "officer", lang="en")
    assert untranslated(visible(at), set())


def test_every_role_name_and_account_is_known() -> None:
    from dashboard.i18n import t

    for role, (username, _) in ACCOUNTS.items():
        assert t(f"role_{role}", "bn") != t(f"role_{role}", "en"), username
