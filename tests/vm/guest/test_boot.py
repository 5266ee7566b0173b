"""The boot: bedside started by systemd at boot, ready (READY=1) with its first frame."""

from vmkit import figure, python_pass_seconds, show, wait_ready


def test_boot_to_ready():
    wait_ready()
    ready = int(show("ActiveEnterTimestampMonotonic")) / 1e6  # since the kernel started
    started = int(show("ExecMainStartTimestampMonotonic")) / 1e6
    reference = python_pass_seconds()
    figure(
        "boot (kernel start) to READY=1",
        ready,
        "s",
        f"python3 -c pass {reference:.3f} s",
        ready / reference,
    )
    figure(
        "process start to READY=1 at boot",
        ready - started,
        "s",
        f"python3 -c pass {reference:.3f} s",
        (ready - started) / reference,
    )
    assert ready < 300
