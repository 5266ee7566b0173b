#!/bin/bash
# make test-vm: one boot's group of tests, run as root inside the VM by the image's
# /usr/local/lib/bedside-vm/group.sh with the working tree at /mnt/src (read-only), the
# wheelhouse at /mnt/wheels and the results folder at /mnt/results.
set -uo pipefail
group=$1
RESULTS=/mnt/results
HERE=/mnt/src/tests/vm/guest
export PYTHONDONTWRITEBYTECODE=1 LANG=C.UTF-8 BEDSIDE_VM_GROUP=$group
step() { printf '[%s %6.1fs] %s\n' "$group" "$(cut -d' ' -f1 /proc/uptime)" "$*"; }

checks() {  # pytest on some of the in-VM tests, as root, with the checks' own venv
    /opt/bedside-vm-checks/bin/python -m pytest -p no:cacheprovider --rootdir="$HERE" \
        --confcutdir="$HERE" -o addopts= -o cache_dir=/tmp/pytest-cache -v -rA \
        --junitxml="$RESULTS/$group-junit.xml" "$@"
}

case $group in
probe)
    step "devices: $(ls /dev/gpiochip* /dev/i2c-* /dev/snd/ 2>&1 | tr '\n' ' ')"
    for a in /sys/bus/i2c/devices/i2c-*; do step "$a: $(cat "$a/name")"; done
    step "gpio-sim: $(ls /sys/devices/platform/gpio-sim.0/gpiochip0/ | head -3 | tr '\n' ' ')"
    lsmod | grep -E 'i2c|gpio|snd_aloop'
    ;;
install)
    step "copying the working tree to /root/src"
    mkdir -p /root/src && cp -a /mnt/src/. /root/src/
    # TEST ONLY: the unit's own ExecStart with -v (gestures in the journal) and --trace (the
    # daemon's events as JSON Lines, which go to the journal too).
    exec_start=$(grep -m1 '^ExecStart=' /root/src/systemd/bedside.service)
    mkdir -p /etc/systemd/system/bedside.service.d
    printf '# make test-vm (TEST ONLY): the shipped ExecStart, with -v and --trace\n[Service]\nExecStart=\n%s -v --trace\n' \
        "$exec_start" >/etc/systemd/system/bedside.service.d/bedside-vm-verbose.conf
    step "make install (the wheelhouse stands for PyPI: the VM has no network)"
    started=$(cut -d' ' -f1 /proc/uptime)
    (cd /root/src && PIP_NO_INDEX=1 PIP_FIND_LINKS=/mnt/wheels PIP_DISABLE_PIP_VERSION_CHECK=1 \
        PIP_ROOT_USER_ACTION=ignore make install) >"$RESULTS/install.log" 2>&1
    status=$?
    ended=$(cut -d' ' -f1 /proc/uptime)
    tail -n 5 "$RESULTS/install.log"
    [ $status = 0 ] || { cat "$RESULTS/install.log"; exit $status; }
    printf 'make install in the VM: %.0f s\n' "$(echo "$ended - $started" | bc 2>/dev/null || python3 -c "print($ended - $started)")" >"$RESULTS/install-figures.txt"
    checks "$HERE/test_install.py"
    ;;
devices)
    checks "$HERE/test_boot.py" "$HERE/test_button.py" "$HERE/test_panel.py" "$HERE/test_speaker.py" "$HERE/test_sandbox.py"
    ;;
powercut-cut)
    checks "$HERE/test_powercut.py::test_cut"
    ;;
powercut-after)
    checks "$HERE/test_powercut.py::test_after"
    ;;
*) echo "no group $group"; exit 2 ;;
esac
