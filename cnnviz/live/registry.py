"""Which live session a token belongs to: the page registers a session's settings under an unguessable
token and hands the token to the browser; the websocket route looks it up for every frame. A token
reaches only its own session's settings; entries unused for `ttl` seconds are dropped. No Keras here:
the route reads this on the server's event loop."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Registry:
    ttl: float = 1800.0
    _items: dict = field(default_factory=dict)  # token -> [settings, last use]
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(18)

    def put(self, token: str, settings) -> None:
        now = time.monotonic()
        with self._lock:
            self._items[token] = [settings, now]
            self._expire(now)

    def get(self, token: str | None):
        if not isinstance(token, str):
            return None
        now = time.monotonic()
        with self._lock:
            found = self._items.get(token)
            if found is None:
                return None
            found[1] = now
            return found[0]

    def drop(self, token: str) -> None:
        with self._lock:
            self._items.pop(token, None)

    def _expire(self, now: float) -> None:
        for token in [t for t, (_, used) in self._items.items() if now - used > self.ttl]:
            del self._items[token]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


REGISTRY = Registry()
