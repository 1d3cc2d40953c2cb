"""GloFAS netCDF read from many threads at once must not crash the process.

netCDF-C/HDF5 are not thread-safe. Without NATIVE_IO_LOCK this script died with SIGSEGV or
SIGBUS in six of six runs here - what killed the scheduler's thread pool under load.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

GLOFAS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds" / "glofas"
SCRIPT = """
import sys, threading
from pathlib import Path
from hazard_feeds.glofas_grid import open_dataset

content = Path(sys.argv[1]).read_bytes()

def work():
    for _ in range(40):
        open_dataset(content)

threads = [threading.Thread(target=work) for _ in range(12)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("parsed")
"""


@pytest.mark.slow
def test_parallel_netcdf_reads_do_not_crash() -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", SCRIPT, str(GLOFAS / "glofas_fc_20200625.nc")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "parsed"
