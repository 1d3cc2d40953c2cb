"""Named crash points for fault-injection tests (failpoints).

`crash_point("after_alert_commit")` kills the process with SIGKILL - no cleanup, no finally
blocks, exactly like the OOM killer or a power cut - when AGAM_CRASH_AT names that point.
Unset (always, in production) it does nothing. Tests use it to prove the pipeline heals
on its next run (see docs/operations.md, "Crash safety").
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "AGAM_CRASH_AT"


def crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
