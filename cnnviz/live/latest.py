"""One live session's frame slot on the server: the latest frame wins, one frame in flight.

The browser sends a frame only after the previous one's result arrived, so the slot is normally empty
when a frame comes; it is the server's guard all the same: a client that sends faster (or a network that
delivers a burst) never builds a queue, and the lag cannot grow.
"""

from __future__ import annotations

import asyncio


class LatestFrame:
    """put() replaces the frame that waits (counted in `dropped`); take() waits for the next one; close()
    wakes a waiting take(), which then returns None."""

    def __init__(self) -> None:
        self._item = None
        self._event = asyncio.Event()
        self._closed = False
        self.dropped = 0
        self.received = 0

    def put(self, item) -> None:
        if self._item is not None:
            self.dropped += 1
        self._item = item
        self.received += 1
        self._event.set()

    def close(self) -> None:
        self._closed = True
        self._event.set()

    @property
    def closed(self) -> bool:
        return self._closed

    async def take(self):
        """The latest frame, or None once closed."""
        while True:
            if self._closed:
                return None
            if self._item is not None:
                item, self._item = self._item, None
                self._event.clear()
                return item
            await self._event.wait()
            self._event.clear()
