"""A bounded memory of article ids already published, so repeats are not sent again."""

from __future__ import annotations

import threading
from collections import OrderedDict

__all__ = ["RecentIds"]


class RecentIds:
    """Least-recently-seen eviction over at most ``capacity`` ids; thread-safe.

    Only a best effort: a restart forgets, and an id evicted long ago can come back. That
    is fine because the database insert is idempotent on the id; this only saves the
    broker and the classifier from the common case (a feed repeating its last 50 items
    on every poll). Ids are kept as 32 raw bytes, not 64-char strings: at the default
    capacity of 200k that halves the memory.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._ids: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(article_id: str) -> bytes:
        try:
            return bytes.fromhex(article_id)
        except ValueError:
            return article_id.encode("utf-8")

    def add(self, article_id: str) -> bool:
        """Remember ``article_id``; False when it was already known (a repeat)."""
        key = self._key(article_id)
        with self._lock:
            if key in self._ids:
                self._ids.move_to_end(key)
                return False
            self._ids[key] = None
            if len(self._ids) > self.capacity:
                self._ids.popitem(last=False)
            return True

    def discard(self, article_id: str) -> None:
        """Forget ``article_id`` (its delivery failed, so a later repeat must go through)."""
        with self._lock:
            self._ids.pop(self._key(article_id), None)

    def __contains__(self, article_id: object) -> bool:
        if not isinstance(article_id, str):
            return False
        with self._lock:
            return self._key(article_id) in self._ids

    def __len__(self) -> int:
        with self._lock:
            return len(self._ids)
