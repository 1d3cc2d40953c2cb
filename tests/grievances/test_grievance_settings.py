"""[grievances] and [cap] in config.toml: strict types, bounds, no unknown keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from agam.core.errors import ConfigError
from agam.core.settings import load_settings


def write_config(folder: Path, extra: str) -> Path:
    path = folder / "config.toml"
    path.write_text('[app]\ndata_dir = "data"\n' + extra, encoding="utf-8")
    return path


def test_defaults_and_overrides(tmp_path: Path) -> None:
    settings = load_settings(
        write_config(
            tmp_path,
            '[grievances.sla_hours]\nnon_payment = 48\n[cap]\nsender = "agam@ddm.example"\n',
        )
    )
    assert settings.grievances.sla_hours.non_payment == 48
    assert settings.grievances.sla_hours.conduct == 7 * 24
    assert settings.cap.sender == "agam@ddm.example"


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ('[grievances.sla_hours]\nnon_payment = "72"\n', "grievances.sla_hours.non_payment"),
        ("[grievances.sla_hours]\nnon_payment = 0\n", "grievances.sla_hours.non_payment"),
        ("[grievances.sla_hours]\ntheft = 24\n", "grievances.sla_hours.theft"),
        ("[grievances]\ndue_soon_share = 1.5\n", "grievances.due_soon_share"),
        ('[cap]\nsender = "agam at ddm"\n', "cap.sender"),
        ("[cap]\nmax_polygon_vertices = 3\n", "cap.max_polygon_vertices"),
        ('[cap]\nfeed_base_url = "https://x.example/cap"\n', "cap.feed_base_url"),
    ],
)
def test_bad_values_name_their_key(tmp_path: Path, table: str, key: str) -> None:
    with pytest.raises(ConfigError, match=rf"\[{key}\]"):
        load_settings(write_config(tmp_path, table))
