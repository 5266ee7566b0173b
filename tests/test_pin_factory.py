"""[button] pin_factory: gpiozero's names checked like any key, the factory opened by name with
gpiozero's real MockFactory, and a missing pin library said plainly (exit 1, no traceback)."""

from __future__ import annotations

import io
import queue
import subprocess
import sys

import pytest
from gpiozero.pins.mock import MockFactory

from bedside.button import (
    ButtonEdges,
    PinFactoryUnavailable,
    describe_pin_factory,
    open_pin_factory,
)
from bedside.commands.selftest import run_checks
from bedside.config.keys import pin_factory_names
from bedside.config.load import ConfigError, load_config


def with_pin_factory(config_copy, value: str):
    text = config_copy.read_text().replace("[button]\n", f"[button]\npin_factory = {value}\n", 1)
    config_copy.write_text(text)
    return config_copy


def test_gpiozero_names_its_factories_and_the_shipped_config_leaves_the_choice_to_it():
    assert {"lgpio", "rpigpio", "pigpio", "native", "mock"} <= set(pin_factory_names())
    assert load_config().button.pin_factory is None


def test_a_named_factory_is_read(config_copy):
    assert load_config(with_pin_factory(config_copy, '"lgpio"')).button.pin_factory == "lgpio"


def test_a_wrong_name_is_a_located_error(config_copy):
    path = with_pin_factory(config_copy, '"gpiod"')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    (problem,) = caught.value.problems
    text = str(problem)
    assert f"{path}:5: button.pin_factory: expected one of " in text
    assert '"lgpio"' in text and '"mock"' in text and text.endswith('found "gpiod"')


def test_a_wrong_type_is_a_located_error_and_check_config_exits_2(config_copy):
    path = with_pin_factory(config_copy, "4")
    result = subprocess.run(
        [sys.executable, "-m", "bedside", "check-config", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"{path}:5: button.pin_factory: expected one of" in result.stderr
    assert "found 4" in result.stderr and "Traceback" not in result.stderr


def test_the_mock_factory_by_name_drives_the_button_and_says_it_has_no_chip():
    factory = open_pin_factory("mock")
    try:
        assert isinstance(factory, MockFactory)
        assert describe_pin_factory(factory) == "mock: simulated pins, no gpiochip"
        edges: queue.SimpleQueue = queue.SimpleQueue()
        config = load_config().button
        button = ButtonEdges(config, edges.put, clock=lambda: 5.0, pin_factory=factory)
        factory.pin(config.pin).drive_low()
        factory.pin(config.pin).drive_high()
        taken = [edges.get(timeout=5), edges.get(timeout=5)]
        # each at the clock's 5.0 less gpiozero's age of the edge, which MockPin measures by
        # the real clock: microseconds on a quiet machine, milliseconds on a loaded one
        assert [(e.pressed, e.at) for e in taken] == [
            (True, pytest.approx(5.0, abs=0.05)),
            (False, pytest.approx(5.0, abs=0.05)),
        ]
        button.close()
    finally:
        factory.close()


def test_selftest_says_which_factory_and_chip(config_copy, tmp_path):
    config = load_config(with_pin_factory(config_copy, '"mock"'))
    checks = {c.name: c for c in run_checks(config, dev=tmp_path)}
    assert checks["pin factory"].ok
    assert checks["pin factory"].detail == "mock: simulated pins, no gpiochip"


def test_selftest_on_this_machine_says_what_is_missing(tmp_path, monkeypatch):
    # No test machine has GPIO: gpiozero's own choice finds nothing, and says what it tried.
    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    checks = {c.name: c for c in run_checks(load_config(), dev=tmp_path)}
    check = checks["pin factory"]
    assert not check.ok
    assert check.detail.startswith("no pin factory could open the GPIO pins (tried lgpio: ")
    # gpiozero's reason for each, and nothing else (importing SWIG's lgpio warns on 3.13 too).
    tried = check.detail.removeprefix("no pin factory could open the GPIO pins (tried ")
    assert [part.split(": ")[0] for part in tried.split("; ")] == [
        "lgpio",
        "rpigpio",
        "pigpio",
        "native",
    ]
    assert "sudo make install" in check.fix and "--mock-hardware" in check.fix


def test_an_unavailable_named_factory_says_what_is_missing_and_the_fix():
    # pigpio is no dependency of bedside: without the package (or without its daemon) it fails.
    with pytest.raises(PinFactoryUnavailable) as caught:
        open_pin_factory("pigpio")
    text = str(caught.value)
    assert text.startswith('the pin factory "pigpio" ([button] pin_factory) cannot open')
    assert "fix: `pip install pigpio` and start its daemon" in text


def test_bedside_run_with_an_unavailable_factory_exits_1_in_plain_words(config_copy, tmp_path):
    path, state = with_pin_factory(config_copy, '"pigpio"'), tmp_path / "state"
    result = subprocess.run(
        [sys.executable, "-m", "bedside", "run", "--config", str(path), "--state-dir", str(state)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith('bedside: the pin factory "pigpio"'), result.stderr
    assert "fix: " in result.stderr and "Traceback" not in result.stderr + result.stdout


def test_the_selftest_report_prints_the_factory_line(config_copy, tmp_path):
    from bedside.commands.selftest import selftest

    out = io.StringIO()
    config = load_config(with_pin_factory(config_copy, '"mock"'))
    assert selftest(config, out=out, dev=tmp_path) == 1  # no I2C bus, no sound card here
    assert "[ok  ] pin factory: mock: simulated pins, no gpiochip" in out.getvalue()
