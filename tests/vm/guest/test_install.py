"""After `make install` in the VM: the real device stack, under the shipped unit."""

from pathlib import Path

from vmkit import figure, python_pass_seconds, sh, show, wait_ready


def test_the_service_runs_the_shipped_unit_without_mock_hardware():
    wait_ready()
    exec_start = show("ExecStart")
    assert "/opt/bedside/venv/bin/bedside run" in exec_start and "--mock-hardware" not in exec_start
    unit = Path("/etc/systemd/system/bedside.service").read_text()
    assert unit == Path("/root/src/systemd/bedside.service").read_text()  # as shipped
    # Only what makes the VM a Pi is added, and each drop-in says it is a test's.
    for dropin in Path("/etc/systemd/system/bedside.service.d").iterdir():
        assert dropin.name.startswith("bedside-vm-"), dropin
        assert "TEST ONLY" in dropin.read_text(), dropin
    assert Path("/usr/local/bin/bedside").resolve() == Path("/opt/bedside/venv/bin/bedside")


def test_the_real_pin_library_and_spidev_are_installed():
    code = (
        "import lgpio, spidev, importlib.metadata as m; "
        "assert hasattr(lgpio, 'gpiochip_open'), lgpio.__file__; "
        "print(m.version('lgpio'), m.version('spidev'), m.version('gpiozero'))"
    )
    out = sh("/opt/bedside/venv/bin/python", "-c", code).stdout.split()
    lgpio, spidev, gpiozero = out
    assert tuple(int(x) for x in lgpio.split(".")[:2]) >= (0, 2), lgpio  # never 0.0.0.2
    print(f"lgpio {lgpio}, spidev {spidev}, gpiozero {gpiozero}")


def test_ready_after_start_as_a_ratio_to_python_starting():
    wait_ready()
    start = int(show("ExecMainStartTimestampMonotonic"))
    ready = int(show("ActiveEnterTimestampMonotonic"))
    seconds = (ready - start) / 1e6
    reference = python_pass_seconds()
    figure(
        "make install's restart: process start to READY=1",
        seconds,
        "s",
        f"python3 -c pass {reference:.3f} s",
        seconds / reference,
    )
    assert 0 < seconds < 60
