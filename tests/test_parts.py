"""Every part has one life cycle: ``close()`` safe twice and after a failed open, and ``with``;
the daemon's parts close together, the last opened first, even when a later one fails to open.

The parts are the real ones: gpiozero's Button on a MockFactory, luma's panel class over a
RecordingSerial, SQLite on the disk, a Unix socket for sd_notify, the voice with its worker."""

from __future__ import annotations

import gc
import logging
import os
import queue
import socket
import threading
import weakref
from pathlib import Path

import pytest
from gpiozero import Button
from gpiozero.exc import GPIOPinInUse
from gpiozero.pins.mock import MockFactory

from bedside.app import paths
from bedside.app.assembly import assemble, mock_parts
from bedside.app.notify import Notifier
from bedside.app.wallclock import MockWall
from bedside.button import ButtonEdges
from bedside.config.load import load_config
from bedside.config.sections import ButtonConfig, DisplayConfig, VoiceConfig
from bedside.core.clock import VirtualClock
from bedside.core.screens import Screen, View
from bedside.display.panel import Oled, open_panel
from bedside.display.partial import PartialUpdates
from bedside.display.picture import picture
from bedside.display.recording_bus import RecordingSerial
from bedside.history.store import Store
from bedside.voice import NULL_OUTPUT, Speaker

CONFIG = load_config()


def open_files(under: Path) -> list[str]:
    """What this process holds open below ``under``."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the listing's own descriptor, gone already
            continue
        if target.startswith(str(under)):
            found.append(target)
    return found


def pin_is_free(factory: MockFactory, number: int) -> bool:
    try:
        Button(number, pin_factory=factory).close()
    except GPIOPinInUse:
        return False
    return True


def voice_threads() -> set[threading.Thread]:
    """The voice workers running now (another test's, left running, is not this one's)."""
    return {t for t in threading.enumerate() if t.name == "bedside-voice"}


# -- each part alone ---------------------------------------------------------------------------
def test_the_button_lets_go_of_its_pin_with_and_closes_twice():
    factory = MockFactory()
    with ButtonEdges(ButtonConfig(pin=17), queue.SimpleQueue().put, pin_factory=factory) as b:
        assert not pin_is_free(factory, 17)
    assert pin_is_free(factory, 17)
    b.close()  # again: nothing happens, nothing raises
    assert pin_is_free(factory, 17)


def test_the_panel_switches_off_lets_go_and_is_not_reopened_after_close():
    serial = RecordingSerial()
    with Oled(lambda: open_panel(DisplayConfig(), serial), contrast=40) as oled:
        assert serial.panel.on
    assert not serial.panel.on  # luma's cleanup: switched off
    sent = serial.bytes_sent
    oled.close()
    oled.retry(10_000.0)
    assert serial.bytes_sent == sent and oled.device is None


def test_a_panel_that_never_answered_closes_and_stays_closed():
    opened: list[float] = []

    def absent():
        opened.append(1)
        raise OSError(121, "Remote I/O error")

    oled = Oled(absent, contrast=40, now=0.0)
    assert oled.device is None and oled.deadline() is not None
    oled.close()
    oled.close()
    assert oled.deadline() is None  # no retry is waited for after close
    oled.retry(10_000.0)
    assert len(opened) == 1


def panels_alive(serial: RecordingSerial) -> int:
    """Panel objects alive on ``serial``. Asked by ``type()``, not ``isinstance``: the collector
    also holds weak proxies, and ``isinstance`` asks a proxy for its ``__class__``, which raises
    ReferenceError once its object is gone (gpiozero and luma keep such proxies; another
    test's, dead by now, made this fail now and then)."""
    gc.collect()
    return sum(
        1
        for o in gc.get_objects()
        if issubclass(type(o), PartialUpdates) and o._serial_interface is serial
    )


def test_counting_panels_is_not_upset_by_a_dead_weak_proxy():
    """What made the test below fail now and then: a weak proxy whose object is gone, still in
    the collector's list (as gpiozero's and luma's leave them), met by the count."""

    class Gone:
        pass

    gone = Gone()
    proxies = [weakref.proxy(gone)]
    del gone
    assert panels_alive(RecordingSerial()) == 0
    assert proxies  # kept alive through the count


def test_a_panel_that_comes_and_goes_all_night_keeps_one_panel_object(monkeypatch):
    """luma keeps each panel object for its exit hook: an Oled that reopened its panel after
    every outage (or failed to, half way through the init sequence) would keep them all."""
    # pytest keeps each log record, and with it the error and its traceback (which holds the
    # panel that raised): the daemon's log keeps text only.
    monkeypatch.setattr(logging.getLogger("bedside.display"), "disabled", True)
    serial = RecordingSerial()
    oled = Oled(lambda: open_panel(DisplayConfig(), serial), contrast=40, shift_every=0)
    images = [picture(Screen(View.MENU, title)) for title in ("Bedtime", "Legs up the wall")]

    def unplugged() -> None:
        raise OSError(121, "Remote I/O error")

    t = 0.0
    for night in range(30):
        serial.fail = unplugged
        t += 100.0
        oled.show(images[night % 2], t)  # lost
        t += 100.0
        oled.retry(t)  # fails in the init sequence
        serial.fail = None
        t += 100.0
        oled.retry(t)  # back
        assert oled.device is not None
    assert oled.outages == 30
    assert panels_alive(serial) == 1
    oled.close()
    assert panels_alive(serial) == 0


def test_the_store_lets_go_of_its_file_with_and_closes_twice(tmp_path):
    with Store(tmp_path / "bedside.db") as store:
        assert any(p.endswith("bedside.db") for p in open_files(tmp_path))
    assert open_files(tmp_path) == []
    store.close()
    assert store.closed and open_files(tmp_path) == []


def test_a_store_that_could_not_open_closes_twice(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    store = Store(tmp_path / "file" / "bedside.db")
    assert store.db is None and store.trouble
    store.close()
    store.close()
    assert store.closed


def test_the_notifier_closes_its_socket_with_and_twice(tmp_path):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(tmp_path / "notify"))
    try:
        before = len(os.listdir("/proc/self/fd"))
        with Notifier(str(tmp_path / "notify")) as notifier:
            assert notifier.enabled
            notifier.ready("menu")
            assert listener.recv(100) == b"READY=1\nSTATUS=menu"
        assert not notifier.enabled and len(os.listdir("/proc/self/fd")) == before
        notifier.close()
        notifier.ready()  # a closed notifier says nothing, and does not raise
    finally:
        listener.close()


def test_the_voice_ends_its_worker_with_and_closes_twice(tmp_path):
    before = voice_threads()
    with Speaker(VoiceConfig(), tmp_path, NULL_OUTPUT) as voice:
        assert len(voice_threads() - before) == 1
    assert voice_threads() <= before
    voice.close()
    voice.say("Nothing is said after close.")
    assert voice_threads() <= before and list(voice.played) == []


# -- the daemon's parts together -----------------------------------------------------------------
def test_the_parts_close_every_part_with_and_twice(tmp_path):
    factory = MockFactory()
    before = voice_threads()
    made = mock_parts(CONFIG, tmp_path, queue.SimpleQueue(), pin_factory=factory, cache=tmp_path)
    with made[0] as parts:
        assert not pin_is_free(factory, CONFIG.button.pin)
        assert len(voice_threads() - before) == 1
        assert any(p.endswith(paths.DATABASE) for p in open_files(tmp_path))
    assert pin_is_free(factory, CONFIG.button.pin)
    assert voice_threads() <= before
    assert open_files(tmp_path) == []
    assert parts.store.closed and parts.panel.device is None and not parts.notifier.enabled
    parts.close()  # again: nothing happens, nothing raises


class WatchedBus(RecordingSerial):
    """A panel's bus that, when the panel lets go of it, notes how the other parts stand."""

    def __init__(self, seen: dict[str, bool], look: dict[str, bool]) -> None:
        super().__init__()
        self.seen, self.look = seen, look

    def cleanup(self) -> None:
        self.seen.update({name: look() for name, look in self.look.items()})
        super().cleanup()


def parts_with(tmp_path: Path, factory: MockFactory, panel) -> object:
    """The parts assembled from what the test gives: the real classes, each part passed in."""
    clock = VirtualClock()
    return assemble(
        CONFIG,
        queue.SimpleQueue(),
        clock=clock,
        wall=MockWall(clock, None),
        pin_factory=factory,
        panel=panel,
        database=paths.database(tmp_path),
        cache=tmp_path,
        output=NULL_OUTPUT,
    )


def test_the_parts_close_in_reverse_order_of_opening(tmp_path):
    """Opened: the store, the button, the panel, the voice, the notifier. When the panel lets go
    of its bus, the voice (opened after it) is closed already, the button and the store
    (opened before it) not yet."""
    factory, before, seen = MockFactory(), voice_threads(), {}
    look = {
        "voice closed": lambda: voice_threads() <= before,
        "button open": lambda: not pin_is_free(factory, CONFIG.button.pin),
        "store open": lambda: any(p.endswith(paths.DATABASE) for p in open_files(tmp_path)),
    }
    bus = WatchedBus(seen, look)
    parts = parts_with(tmp_path, factory, lambda: open_panel(CONFIG.display, bus))
    parts.close()
    assert seen == dict.fromkeys(look, True)
    assert pin_is_free(factory, CONFIG.button.pin) and open_files(tmp_path) == []


def test_a_panel_failing_to_open_still_closes_the_button_and_the_store(tmp_path):
    def broken():
        raise RuntimeError("the panel's driver broke")  # no bus error: Oled cannot live with it

    factory = MockFactory()
    before = voice_threads()
    with pytest.raises(RuntimeError, match="driver broke"):
        parts_with(tmp_path, factory, broken)
    assert pin_is_free(factory, CONFIG.button.pin)  # the button, opened before it, is closed
    assert open_files(tmp_path) == []  # and so is the store
    assert voice_threads() <= before  # the voice, after it, was never opened


class BrokenBus(RecordingSerial):
    """A panel's bus that fails as the panel lets go of it (not a bus error Oled expects)."""

    def cleanup(self) -> None:
        super().cleanup()
        raise RuntimeError("the panel's driver broke on the way out")


def test_a_part_that_fails_to_close_does_not_keep_the_others_open(tmp_path, caplog):
    factory = MockFactory()
    parts = parts_with(tmp_path, factory, lambda: open_panel(CONFIG.display, BrokenBus()))
    with caplog.at_level(logging.WARNING):
        parts.close()
    assert "closing Oled: the panel's driver broke on the way out" in caplog.text
    assert parts.store.closed and open_files(tmp_path) == []
    assert pin_is_free(factory, CONFIG.button.pin)


def test_the_daemon_closes_its_parts_when_it_stops(tmp_path):
    from bedside.app.assembly import Driver
    from bedside.app.daemon import Options, run
    from bedside.app.events import Stop

    factory = MockFactory()
    events: queue.SimpleQueue = queue.SimpleQueue()
    made = []
    before = voice_threads()

    def build(config, state_dir, given):
        assert given is events  # the queue the caller made is the one the daemon waits on
        parts, _ = mock_parts(config, state_dir, given, pin_factory=factory, cache=tmp_path)
        made.append(parts)
        return parts.watched_by(Driver(events.put, Stop("test done")))

    assert run(Options(state_dir=tmp_path / "state"), build, events) == 0
    (parts,) = made
    assert pin_is_free(factory, CONFIG.button.pin)
    assert voice_threads() <= before and open_files(tmp_path / "state") == []
    assert parts.store.closed and not parts.notifier.enabled
