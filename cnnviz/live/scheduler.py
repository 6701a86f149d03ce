"""One worker per process for every live session: a fair share of the CPU and, where it pays, one forward
pass for the frames of several sessions.

Each session has at most one frame waiting here and one being computed: a frame that arrives while the
session's previous one waits replaces it (the replaced one's future is cancelled). The worker takes the
oldest waiting frame and, when batching is on, every other waiting frame with the same key (same model,
layer and overlay), at most `max_batch`, one per session: so every session gets a frame through in each
round, whatever the others send, and none starves. Sessions with different keys are served in the order
their frames arrived.

`share` < 1 keeps the worker from taking every core all the time: after a batch that took t seconds it
pauses t * (1 / share - 1), leaving the rest to the other pages' reruns. The worker thread ends after
`idle_exit` seconds without a frame, so sessions that stop leave no thread behind.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable


@dataclass
class _Request:
    session: str
    key: Hashable
    item: Any
    future: Future = field(default_factory=Future)


@dataclass
class Stats:
    """What the worker did: frames and batches run, frames replaced before they ran, time busy."""

    frames: int = 0
    batches: int = 0
    replaced: int = 0
    busy: float = 0.0
    per_session: dict = field(default_factory=dict)
    largest_batch: int = 0


class Scheduler:
    """`run(key, items) -> results` computes a batch (one result per item, in order) in the worker thread;
    `submit(session, key, item)` returns a Future of the item's result."""

    def __init__(self, run: Callable[[Hashable, list], list], max_batch: int = 8, share: float = 1.0,
                 idle_exit: float = 30.0, batching: bool = True, name: str = "cnnviz-live"):
        if not 0.05 <= share <= 1.0:
            raise ValueError(f"share must be in [0.05, 1], not {share}")
        self._run = run
        self.max_batch = max(1, int(max_batch))
        self.share = float(share)
        self.idle_exit = float(idle_exit)
        self.batching = bool(batching)
        self._name = name
        self._cond = threading.Condition()
        self._waiting: OrderedDict[str, _Request] = OrderedDict()  # arrival order
        self._running: set[str] = set()
        self._thread: threading.Thread | None = None
        self.stats = Stats()

    # --- the sessions' side ---

    def submit(self, session: str, key: Hashable, item) -> Future:
        request = _Request(session, key, item)
        with self._cond:
            old = self._waiting.pop(session, None)
            if old is not None:  # the latest frame wins
                old.future.cancel()
                self.stats.replaced += 1
            self._waiting[session] = request
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify_all()
        return request.future

    def forget(self, session: str) -> None:
        """Drops the session's waiting frame (its tab closed): nothing more is computed for it."""
        with self._cond:
            old = self._waiting.pop(session, None)
            self.stats.per_session.pop(session, None)
        if old is not None:
            old.future.cancel()

    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)

    def alive(self) -> bool:
        """Whether the worker thread is running now."""
        with self._cond:
            return self._thread is not None

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Waits until nothing waits or runs and the worker thread has ended (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._waiting or self._running or self._thread is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    # --- the worker ---

    def _take(self) -> list[_Request]:
        """The next batch (under the lock): the oldest waiting frame whose session has none running, and
        the other waiting frames of its key, one per session."""
        first = next((r for s, r in self._waiting.items() if s not in self._running), None)
        if first is None:
            return []
        batch = [first]
        if self.batching:
            for session, request in self._waiting.items():
                if len(batch) >= self.max_batch:
                    break
                if request is not first and request.key == first.key and session not in self._running:
                    batch.append(request)
        for request in batch:
            del self._waiting[request.session]
            self._running.add(request.session)
        return batch

    def _work(self) -> None:
        while True:
            with self._cond:
                batch = self._take()
                idle_since = time.monotonic()
                while not batch:
                    left = self.idle_exit - (time.monotonic() - idle_since)
                    if left <= 0 and not self._waiting:
                        self._thread = None
                        self._cond.notify_all()
                        return
                    self._cond.wait(max(0.01, left))
                    batch = self._take()
            live = [r for r in batch if r.future.set_running_or_notify_cancel()]
            start = time.perf_counter()
            try:
                results = list(self._run(batch[0].key, [r.item for r in live])) if live else []
                error = None if len(results) == len(live) else RuntimeError(
                    f"the live job answered {len(results)} of {len(live)} frames")
            except BaseException as err:  # noqa: BLE001 - the sessions' futures carry it; the worker goes on
                results, error = [], err
            elapsed = time.perf_counter() - start
            with self._cond:  # counted before the answers go out: a session that ends on its answer forgets its count
                for request in batch:
                    self._running.discard(request.session)
                    count = self.stats.per_session.get(request.session, 0)
                    self.stats.per_session[request.session] = count + 1
                self.stats.frames += len(live)
                self.stats.batches += 1
                self.stats.busy += elapsed
                self.stats.largest_batch = max(self.stats.largest_batch, len(live))
                self._cond.notify_all()
            for i, request in enumerate(live):
                if error is not None:
                    request.future.set_exception(error)
                else:
                    request.future.set_result(results[i])
            if self.share < 1.0 and live:
                time.sleep(elapsed * (1.0 / self.share - 1.0))
