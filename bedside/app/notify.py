"""Talking to systemd: sd_notify over ``$NOTIFY_SOCKET`` (READY, WATCHDOG, STATUS, STOPPING).

The protocol is one datagram per message on a Unix socket; the standard library is enough,
so there is no dependency on libsystemd. Outside systemd (no ``$NOTIFY_SOCKET``) every call
does nothing.
"""

from __future__ import annotations

import logging
import os
import socket

from bedside.closing import Closing

log = logging.getLogger("bedside.service")


class Notifier(Closing):
    def __init__(self, address: str | None = None) -> None:
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        self._socket: socket.socket | None = None
        self._address = ""
        self._warned = False
        if address:
            # An address starting with "@" is in the abstract namespace.
            self._address = "\0" + address[1:] if address.startswith("@") else address
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @property
    def enabled(self) -> bool:
        return self._socket is not None

    def notify(self, *fields: str) -> None:
        if self._socket is None:
            return
        try:
            self._socket.sendto("\n".join(fields).encode(), self._address)
        except OSError as exc:
            if not self._warned:  # once: the daemon goes on without it
                log.warning("cannot reach systemd at NOTIFY_SOCKET: %s", exc)
                self._warned = True

    def ready(self, status: str = "") -> None:
        self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> None:
        self.notify(f"STATUS={text}")

    def watchdog(self) -> None:
        self.notify("WATCHDOG=1")

    def stopping(self) -> None:
        self.notify("STOPPING=1")

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def watchdog_interval() -> float | None:
    """Half of systemd's ``WatchdogSec=``, when it is set for this process; else None."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return int(usec) / 1e6 / 2
    except ValueError:
        return None
