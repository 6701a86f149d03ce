"""Processes a test starts and must not leave behind (the `cnnviz` command's tests): each in a process group
of its own with SIGINT at its default (a suite started from a background job has it ignored, and a child would
inherit that), found through /proc, and killed as a group at the end even when the test failed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import pytest

needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="finds processes through /proc (Linux)")


class Groups:
    """start() is subprocess.Popen in a new session; kill_all() (a fixture's teardown) SIGKILLs every group."""

    def __init__(self):
        self.started: list[subprocess.Popen] = []

    def start(self, cmd, sigint=signal.SIG_DFL, **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(cmd, start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, sigint),
                                **kwargs)
        self.started.append(proc)
        return proc

    def kill_all(self) -> None:
        for proc in self.started:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the group outlives its leader: an orphaned server is in it
            except ProcessLookupError:
                pass
            proc.wait(timeout=30)


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except (OSError, ValueError):
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def gone(pid: int) -> bool:
    """Ended: no such process, or a zombie left to a parent that does not reap, all its threads ended (it
    holds no port, no memory; its main thread alone is a zombie while the others are still ending)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
        return zombie and len(os.listdir(f"/proc/{pid}/task")) == 1
    except OSError:
        return True


def until(condition, timeout: float) -> bool:
    """Polls `condition` every 0.1 s; False when `timeout` seconds passed first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def answers(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0
