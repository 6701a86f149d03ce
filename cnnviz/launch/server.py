"""The server process that cnnviz.launch starts (`cnnviz MODEL`, `cnnviz.show`): a Python module run in this
process (`streamlit run app.py`) that ends with the process that started it.

    python -m cnnviz.launch.server PARENT_PID [--pdeathsig] MODULE [ARGUMENTS ...]

- SIGINT is at Python's default here even when the launcher was started with it ignored (a background job of
  a shell starts so), so a Ctrl-C or `kill -INT` reaches the server.
- The parent's death, even a SIGKILL that gives it no chance to stop us: with --pdeathsig, on Linux, the
  kernel sends this process SIGTERM at once (prctl PR_SET_PDEATHSIG; it fires when the parent THREAD that
  started us ends, so only a launcher that starts us from a thread living as long as itself asks for it:
  the `cnnviz` command's main thread does, a notebook kernel's caller may not). Everywhere, a watchdog
  thread sees the parent gone (this process re-parented) within WATCH_S seconds and sends SIGTERM. Streamlit
  stops its server on SIGTERM; a process still here GRACE_S seconds later ends with os._exit.

Imports nothing but the standard library before it runs the module.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import runpy
import signal
import sys
import threading
import time

WATCH_S = 0.5  # how often the watchdog looks at the parent
GRACE_S = 8.0  # from the SIGTERM to os._exit, when the server does not end by itself
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def command(module_args: list[str], pdeathsig: bool = False) -> list[str]:
    """The command line that runs `python -m MODULE ARGUMENTS` as this process's server child."""
    return [sys.executable, "-m", "cnnviz.launch.server", str(os.getpid()), *(["--pdeathsig"] if pdeathsig else []),
            *module_args]


def parse(argv: list[str]) -> tuple[int, bool, list[str]]:
    """(parent pid, pdeathsig, [module, arguments ...]) from this module's command line."""
    if len(argv) < 2 or not argv[0].isdigit():
        raise SystemExit("usage: python -m cnnviz.launch.server PARENT_PID [--pdeathsig] MODULE [ARGUMENTS ...]")
    pdeathsig = argv[1] == "--pdeathsig"
    rest = argv[2:] if pdeathsig else argv[1:]
    if not rest:
        raise SystemExit("cnnviz.launch.server: no module to run")
    return int(argv[0]), pdeathsig, rest


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Ask Linux to send `sig` to this process when its parent ends; False where prctl is not there."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def watch(parent: int, interval: float = WATCH_S, grace: float = GRACE_S, kill=os.kill, exit=os._exit,
          sleep=time.sleep) -> None:
    """Return only after the parent is gone: then SIGTERM to this process, and os._exit `grace` seconds later
    if that did not end it (a watchdog thread's body; the functions are there for the tests)."""
    while os.getppid() == parent:
        sleep(interval)
    kill(os.getpid(), signal.SIGTERM)
    sleep(grace)
    exit(128 + signal.SIGTERM)


def main(argv: list[str] | None = None) -> None:
    parent, pdeathsig, (module, *args) = parse(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if pdeathsig:
        die_with_parent()
    # Also the race where the parent ended before prctl: the watchdog's first look sees it.
    threading.Thread(target=watch, args=(parent,), name="cnnviz-parent-watchdog", daemon=True).start()
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
