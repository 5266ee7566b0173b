"""The lifetime of the processes the voice starts: each dies with its parent, and is stopped
with everything it started.

The render child and a player each run in a process group of their own, so a signal to the
group reaches whatever they started (Piper under the render child, ``aplay`` under a wrapper
script), not only the process bedside started. A render child and its Piper also ask the
kernel to kill them when their parent dies: a daemon killed with -9 cannot kill them itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess

__all__ = ["die_with_parent", "kill_group", "signal_group"]


def die_with_parent(parent: int | None = None) -> None:
    """Have the kernel kill this process when its parent dies (Linux; elsewhere nothing).

    A daemon killed with -9 cannot kill its render child, and an orphaned render would go on
    writing into the cache; what it leaves half-done is removed at the next start.

    ``parent`` is the pid this process was started by. A parent that died before the kernel
    was asked (between the fork and this call) sends no signal: the process would live on as an
    orphan (a Piper loading its model, then writing into a cache folder already cleaned up).
    Such a process sees its parent changed, and exits at once.
    """
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    """Send ``sig`` to ``process``'s group (started with ``start_new_session=True``)."""
    # The group outlives its leader while any member lives, so its id cannot be reused yet.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill ``process`` and its group at once, if it is still running, and reap it."""
    if process.poll() is None:
        signal_group(process, signal.SIGKILL)
    process.wait()
