"""The signals the daemon answers: SIGTERM and SIGINT stop it, SIGHUP reloads its settings."""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
from collections.abc import Callable, Iterator

from bedside.app.events import Reload, Stop, Wake


@contextlib.contextmanager
def signals_to(put: Callable[[Stop | Reload | Wake], None]) -> Iterator[None]:
    """SIGTERM and SIGINT stop the loop, SIGHUP reloads, for as long as the block runs.

    Python runs signal handlers on the main thread, but the kernel may hand the signal to any
    thread (gpiozero's, the voice's), leaving the main thread asleep on its queue until its
    next deadline, which may be never. So every signal also writes to a wakeup socket, and a
    small thread turns that into a ``Wake`` on the queue: the main thread wakes at once and
    runs the handler.
    """
    previous = {
        signal.SIGTERM: signal.signal(signal.SIGTERM, lambda *_: put(Stop("SIGTERM"))),
        signal.SIGINT: signal.signal(signal.SIGINT, lambda *_: put(Stop("SIGINT"))),
        signal.SIGHUP: signal.signal(signal.SIGHUP, lambda *_: put(Reload())),
    }
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    old_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)

    def relay() -> None:
        while reader.recv(64):
            put(Wake())

    thread = threading.Thread(target=relay, name="bedside-signals", daemon=True)
    thread.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(old_fd)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        writer.shutdown(socket.SHUT_RDWR)  # the relay's recv returns nothing: it ends
        thread.join(timeout=2)
        reader.close()
        writer.close()
