"""``bedside selftest`` on machines without the hardware: plain words, each fix, exit 1."""

from __future__ import annotations

import io
import os

from bedside.cli import main
from bedside.config import load_config
from bedside.selftest import run_checks, selftest


def test_without_any_hardware_it_says_so_plainly_and_exits_1(tmp_path):
    out = io.StringIO()
    assert selftest(load_config(), out=out, dev=tmp_path) == 1
    text = out.getvalue()
    assert "[FAIL] I2C bus 1:" in text and "raspi-config nonint do_i2c 0" in text
    assert "[FAIL] GPIO:" in text
    assert "not a wired-up bedside" in text and "make demo" in text


def test_some_hardware_present_lists_what_to_fix(tmp_path):
    (tmp_path / "gpiochip0").touch()
    os.chmod(tmp_path / "gpiochip0", 0o660)
    checks = {c.name: c for c in run_checks(load_config(), dev=tmp_path)}
    assert checks["GPIO"].ok and checks["GPIO"].detail == "gpiochip0"
    assert not checks["I2C bus 1"].ok
    out = io.StringIO()
    assert selftest(load_config(), out=out, dev=tmp_path) == 1
    assert "Fix what failed above" in out.getvalue()


def test_the_live_part_runs_only_when_every_check_passes(tmp_path, monkeypatch):
    import bedside.selftest as module

    monkeypatch.setattr(module, "run_checks", lambda config, dev: [module.Check("x", True, "")])
    seen = []
    assert selftest(load_config(), out=io.StringIO(), live=lambda c, o: seen.append(c) or True) == 0
    assert len(seen) == 1


def test_the_command_on_this_machine_exits_nonzero_without_a_traceback(capsys):
    assert main(["selftest"]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert "[FAIL]" in captured.out
