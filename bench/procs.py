"""Stopping the servers a bench script started (by their Popen, never by name)."""
from __future__ import annotations

import signal
import subprocess


def stop(proc: subprocess.Popen, timeout: float = 60) -> None:
    """SIGTERM to ``proc``, SIGKILL when it has not exited after ``timeout`` s."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
