"""An import allocates Arrow memory from malloc and gives the process its pool back, also when
imports overlap in one process (dashboard sessions) or one fails."""

from __future__ import annotations

import pyarrow as pa
import pytest

from allowances.import_steps import system_allocator


def test_overlapping_imports_restore_the_pool_the_first_one_found() -> None:
    found = pa.default_memory_pool()
    first, second = system_allocator(), system_allocator()
    first.__enter__()
    assert pa.default_memory_pool().backend_name == "system"
    second.__enter__()
    first.__exit__(None, None, None)  # the first ends while the second still runs
    assert pa.default_memory_pool().backend_name == "system"
    second.__exit__(None, None, None)
    assert pa.default_memory_pool().backend_name == found.backend_name


def test_a_failed_import_restores_the_pool() -> None:
    found = pa.default_memory_pool().backend_name

    def failing_import() -> None:
        with system_allocator():
            assert pa.default_memory_pool().backend_name == "system"
            raise RuntimeError("the file is unreadable")

    with pytest.raises(RuntimeError, match="unreadable"):
        failing_import()
    assert pa.default_memory_pool().backend_name == found
