"""Rendering outside the daemon: a child process makes the cache's WAVs; the daemon waits on
nothing it cannot kill.

The daemon's ``Renderer`` runs ``python -m bedside.voice.render_child`` (its own process
group, so Piper under it goes too), sends it the job as JSON on stdin, and reads one JSON line
per finished sound. A child that says nothing for ``stall`` seconds (espeak-ng unable to write
to a full disk never finishes) is killed, and so is a child still running at ``close()``: a
render can never hold up the event loop or SIGTERM. What a killed child left half-written is
removed (its temporary names carry its pid).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError, wait
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bedside.core.errors import TroubleError
from bedside.voice.cache import remove_leftovers
from bedside.voice.engine import EngineSpec
from bedside.voice.output import Lines, Tail, follow
from bedside.voice.processes import kill_group
from bedside.voice.wav import is_playable

__all__ = ["Item", "RenderFailed", "Renderer", "render_now"]

LOG = logging.getLogger("bedside.voice")
ANSWER_WIDTH = 1 << 16  # bytes: an answer is a path and a message, well under this


class RenderFailed(TroubleError):
    """A sound could not be rendered; ``unavailable``: the engine itself cannot run."""

    def __init__(self, message: str, unavailable: bool = False) -> None:
        super().__init__(message)
        self.unavailable = unavailable


@dataclass(frozen=True)
class Item:
    """One sound to render at ``rate``: a text, a chime or a soundscape's loop, levelled to
    ``target`` LUFS (None: silence)."""

    kind: str  # "text", "chime" or "loop"
    text: str  # the words, the chime's name, or the soundscape (a kind or a file's path)
    target: float | None
    path: str
    rate: int = 48000  # the output's own: nothing is resampled at play time


# -- the parent's side ---------------------------------------------------------------------------
@dataclass
class _Job:
    items: list[Item]
    futures: dict[str, Future[bool]]
    engine: EngineSpec
    cancelled: bool = False  # cancel() ended it: its items are cancelled, not failed


class Renderer:
    """Renders items in a child process, one child at a time, urgent jobs first.

    ``submit`` returns a Future per item (True once its WAV is in the cache); an item already
    pending shares its Future. Each job is rendered with the engine it names (by default
    ``engine``): an item's cache name covers its engine, so a sound is one sound whichever
    job asks for it. ``on_change`` is called whenever a job starts or ends.
    """

    def __init__(
        self,
        engine: EngineSpec,
        folder: Path,
        log: logging.Logger | None = None,
        *,
        stall: float = 120.0,
        on_change: Callable[[], None] | None = None,
        command: list[str] | None = None,
    ) -> None:
        self.engine = engine
        # -P: the working folder is not put first on the import path, so a folder that holds a
        # clone named bedside (run from the clone's parent) cannot shadow the package.
        self.command = command or [sys.executable, "-P", "-m", "bedside.voice.render_child"]
        self.folder = folder
        self.log = log or LOG
        self.stall = stall
        self.rendered = 0  # sounds the children wrote
        self.process: subprocess.Popen[bytes] | None = None
        self._on_change = on_change or (lambda: None)
        self._cond = threading.Condition()
        self._jobs: deque[_Job] = deque()
        self._pending: dict[str, Future[bool]] = {}
        self._running = False
        self._current: _Job | None = None  # the job a child renders now
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="bedside-render", daemon=True)
        self._thread.start()

    def submit(
        self, items: list[Item], urgent: bool = False, engine: EngineSpec | None = None
    ) -> list[Future[bool]]:
        """Queue ``items`` (``urgent``: ahead of what waits) to be rendered with ``engine``
        (None: the Renderer's); a Future for each, in order."""
        futures: list[Future[bool]] = []
        job = _Job([], {}, engine if engine is not None else self.engine)
        with self._cond:
            for item in items:
                future = self._pending.get(item.path)
                if future is None:
                    future = Future()
                    if self._closed:
                        future.cancel()
                    else:
                        self._pending[item.path] = future
                        job.items.append(item)
                        job.futures[item.path] = future
                futures.append(future)
            if job.items:
                if urgent:
                    self._jobs.appendleft(job)
                else:
                    self._jobs.append(job)
                self._cond.notify_all()
        return futures

    @property
    def idle(self) -> bool:
        with self._cond:
            return not self._jobs and not self._running

    def cancel(self) -> None:
        """Kill the child now and cancel everything pending; the Renderer takes new jobs."""
        with self._cond:
            jobs = [*self._jobs, *([self._current] if self._current is not None else [])]
            self._jobs.clear()
            for job in jobs:
                job.cancelled = True
                for path, future in job.futures.items():
                    future.cancel()
                    self._pending.pop(path, None)
            process = self.process
        if process is not None:
            kill_group(process)

    def close(self) -> None:
        """Kill the child now, cancel everything pending, end the thread."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            process = self.process
            self._cond.notify_all()
        if process is not None:
            kill_group(process)
        self._thread.join(timeout=2)
        with self._cond:
            for future in self._pending.values():
                future.cancel()
            self._pending.clear()
            self._jobs.clear()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                job = self._jobs.popleft()
                self._running = True
                self._current = job
            self._on_change()
            try:
                self._render(job)
            except Exception as e:  # the thread must outlive any surprise
                self.log.exception("unexpected trouble rendering: %s", e)
            finally:
                with self._cond:
                    for path, future in job.futures.items():
                        _settle(future, RenderFailed("the render ended early"))
                        if self._pending.get(path) is future:
                            del self._pending[path]
                    self._running = False
                    self._current = None
                self._on_change()

    def _render(self, job: _Job) -> None:
        todo = []
        for item in job.items:
            if is_playable(Path(item.path)):
                _settle(job.futures[item.path], False)
            else:
                todo.append(item)
        if not todo:
            return
        request = {
            "engine": job.engine,
            "folder": str(self.folder),
            "items": [asdict(item) for item in todo],
            "parent": os.getpid(),  # the child, its parent gone before it could ask, exits
        }
        try:
            process = subprocess.Popen(
                self.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own group: Piper under it is killed with it
            )
        except OSError as e:
            for item in todo:
                _settle(job.futures[item.path], RenderFailed(f"cannot start: {e}"))
            return
        with self._cond:
            self.process = process
            if self._closed or job.cancelled:
                kill_group(process)
        try:
            self._talk(process, request, job)
        finally:
            kill_group(process)
            remove_leftovers(self.folder, process.pid)
            with self._cond:
                self.process = None

    def _talk(self, process: subprocess.Popen[bytes], request: dict[str, Any], job: _Job) -> None:
        assert process.stdin and process.stdout and process.stderr
        with contextlib.suppress(OSError):
            process.stdin.write(json.dumps(request).encode("utf-8"))
            process.stdin.close()
        # Both of its outputs are read as they come, in bounded pieces: the answers line by
        # line, the last few lines of stderr for a message (a child that floods either costs
        # a few kilobytes, and never blocks on a full pipe).
        answers, said = Lines(ANSWER_WIDTH), Tail()
        out, err = process.stdout.fileno(), process.stderr.fileno()
        watched = [out, err]
        while out in watched:
            ready, _, _ = select.select(watched, [], [], self.stall)
            if not ready:
                self.log.warning("the render made no progress in %g s: stopped", self.stall)
                return
            for fd in ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    watched.remove(fd)
                elif fd == err:
                    said.feed(chunk)
                else:
                    for line in answers.feed(chunk):
                        self._answer(line, job)
        follow(process, process.stderr, said, self.stall)
        if process.returncode not in (0, None) and said.last() and not self._closed:
            self.log.warning("the render child failed: %s", said.last())

    def _answer(self, line: bytes, job: _Job) -> None:
        try:
            report = json.loads(line)
            if not isinstance(report, dict) or not isinstance(report.get("path"), str):
                raise ValueError("not an answer")
        except ValueError:  # cut at ANSWER_WIDTH, or not an answer: its item fails in the end
            self.log.warning("the render child said something unexpected: %.80r", line)
            return
        self._report(report, job)

    def _report(self, report: dict[str, Any], job: _Job) -> None:
        future = job.futures.get(report["path"])
        if future is None or future.done():
            return
        if "error" in report:
            _settle(future, RenderFailed(report["error"], report.get("unavailable", False)))
        else:
            self.rendered += 1
            _settle(future, True)


def _settle(future: Future[bool], outcome: bool | Exception) -> None:
    """``future``'s outcome, unless it has one (cancel() may come first, from another thread)."""
    with contextlib.suppress(InvalidStateError):
        if isinstance(outcome, Exception):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


def render_now(
    engine: EngineSpec,
    folder: Path,
    items: list[Item],
    log: logging.Logger | None = None,
    progress: Callable[[int], None] | None = None,
    every: float = 1.0,
) -> tuple[int, list[str]]:
    """Render ``items`` and wait: (sounds written, every problem). For ``bedside voice``, which
    is told ``progress`` (how many are settled) as each one is, and every ``every`` seconds
    while one takes long (Piper's first loads its model)."""
    renderer = Renderer(engine, folder, log)
    problems: list[str] = []
    try:
        for settled, (item, future) in enumerate(zip(items, renderer.submit(items), strict=True)):
            while progress is not None and not wait([future], every).done:
                progress(settled)
            try:
                future.result()
            except Exception as e:
                problems.append(f"{item.text!r}: {e}")
            if progress is not None:
                progress(settled + 1)
    finally:
        renderer.close()
    return renderer.rendered, problems
