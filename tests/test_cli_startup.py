"""`agam --help` lists every command without importing the store, pandas or xarray."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from agam.cli.lazy import LAZY_COMMANDS, load_command
from agam.cli.main import app
from agam.core.settings import Settings
from agam.pipeline.context import AppContext

HEAVY = ("sqlalchemy", "pandas", "xarray", "alembic", "geopandas", "numba", "rasterio")


def test_help_imports_nothing_heavy() -> None:
    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from agam.cli.main import app\n"
        "result = CliRunner().invoke(app, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_help_lists_every_lazy_command_with_its_own_help() -> None:
    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    for name, entry in LAZY_COMMANDS.items():
        assert name in result.stdout
        loaded = load_command(name)
        assert " ".join((loaded.help or "").split()) == entry.help, name


def test_a_lazy_command_runs() -> None:
    result = CliRunner().invoke(app, ["boundaries", "crosswalk", "BD554909", "--json"])
    assert result.exit_code == 0, result.output
    assert "BD55490009" in result.stdout


def test_boundaries_find_on_a_prepared_layer_imports_nothing_heavy(settings: Settings) -> None:
    AppContext(settings).union_layer()  # prepares the layer cache, as `agam demo` or a tick does
    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from agam.cli.main import app\n"
        "result = CliRunner().invoke(app, ['boundaries', 'find', '89.67', '25.11', '--json',\n"
        f"                                 '--config', {str(settings.config_path)!r}])\n"
        "assert result.exit_code == 0, result.output\n"
        "assert 'BD4539' in result.stdout, result.stdout\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
