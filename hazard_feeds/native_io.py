"""One process-wide lock for the native file libraries that are not thread-safe.

netCDF-C and HDF5 (under netCDF4-python and xarray's netcdf4 backend) and ecCodes (cfgrib)
keep global state without locks. netCDF4-python releases the GIL inside its calls, and
xarray's backend lock does not cover every call (it reads variable metadata unlocked), so two
threads reading netCDF at once crash the whole process with SIGSEGV - the scheduler's thread
pool did exactly that when two feed jobs judged a GloFAS forecast together. Every read and
write of these formats in Agam holds NATIVE_IO_LOCK (re-entrant: a reader may call a reader).
"""

from __future__ import annotations

import threading

NATIVE_IO_LOCK = threading.RLock()
