"""When to analyse: as soon as the server is idle, on one worker thread, the newest version of a document
winning. No fixed debounce: a burst of edits is analysed once it stops arriving faster than a check runs,
and an analysis whose document changed meanwhile is dropped (its successor is already queued)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from .analysis import Analysis

__all__ = ["Scheduler"]

log = logging.getLogger(__name__)
FRESH_WAIT = 10.0  # seconds a request waits for the analysis of the current text before using an older one


class Scheduler:
    """Dirty documents in order, one worker draining them; requests can await a fresh analysis."""

    def __init__(self, run: Callable[[str], Analysis | None], publish: Callable[[Analysis], Awaitable[None]],
                 version_of: Callable[[str], int | None]) -> None:
        self._run, self._publish, self._version_of = run, publish, version_of
        self._dirty: dict[str, None] = {}
        self._worker: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scenec-analysis")
        self._analysed: asyncio.Condition | None = None
        self.latest: dict[str, Analysis] = {}
        self._running: tuple[str, int | None] | None = None

    def touch(self, uri: str) -> None:
        """The document changed (or something it reads did): analyse its newest text soon."""
        self._dirty.pop(uri, None)
        self._dirty[uri] = None
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._drain())

    def forget(self, uri: str) -> None:
        self._dirty.pop(uri, None)
        self.latest.pop(uri, None)

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._dirty:
            uri = next(iter(self._dirty))
            del self._dirty[uri]
            self._running = (uri, self._version_of(uri))
            try:
                analysis = await loop.run_in_executor(self._executor, self._run, uri)
            except Exception:  # a compiler bug must not stop the server: log it, keep serving
                log.exception("analysis of %s failed", uri)
                analysis = None
            self._running = None
            # Dropped when closed, or when a newer version is queued: this result is stale.
            if analysis is not None and analysis.version == self._version_of(uri):
                self.latest[uri] = analysis
                await self._publish(analysis)
            await self._notify()

    async def _notify(self) -> None:
        condition = self._condition()
        async with condition:
            condition.notify_all()

    def _condition(self) -> asyncio.Condition:
        if self._analysed is None:
            self._analysed = asyncio.Condition()
        return self._analysed

    def fresh(self, uri: str) -> bool:
        analysis = self.latest.get(uri)
        return analysis is not None and analysis.version == self._version_of(uri)

    async def current(self, uri: str) -> Analysis | None:
        """The analysis of the document's current text (waiting for it if it is under way), else the latest."""
        if not self.fresh(uri) and self._version_of(uri) is not None:
            if uri not in self._dirty and self._running != (uri, self._version_of(uri)):
                self.touch(uri)
            condition = self._condition()
            try:
                async with condition:
                    await asyncio.wait_for(condition.wait_for(lambda: self._settled(uri)), FRESH_WAIT)
            except TimeoutError:
                pass
        return self.latest.get(uri)

    def _settled(self, uri: str) -> bool:
        """Fresh, closed, or nothing more coming (the last analysis failed)."""
        busy = uri in self._dirty or (self._running is not None and self._running[0] == uri)
        return self.fresh(uri) or self._version_of(uri) is None or not busy

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
