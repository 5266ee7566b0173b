#!/bin/bash
# make test-vm: one boot's group of tests, run as root inside the VM by the image's
# /usr/local/lib/bedside-vm/group.sh with the working tree at /mnt/src (read-only), the
# wheelhouse at /mnt/wheels and the results folder at /mnt/results.
set -uo pipefail
group=$1
RESULTS=/mnt/results
HERE=/mnt/src/tests/vm/guest
export PYTHONDONTWRITEBYTECODE=1 LANG=C.UTF-8 BEDSIDE_VM_GROUP=$group
arg() { sed -n "s/.*bedside_vm\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
step() { printf '[%s %6.1fs] %s\n' "$group" "$(cut -d' ' -f1 /proc/uptime)" "$*"; }

checks() {  # pytest on some of the in-VM tests, as root, with the checks' own venv
    /opt/bedside-vm-checks/bin/python -m pytest -p no:cacheprovider --rootdir="$HERE" \
        --confcutdir="$HERE" -o addopts= -v -rA \
        --junitxml="$RESULTS/$group-junit.xml" ${K:+-k "$K"} "$@"
}

K=$(arg k | tr + " ")  # pytest -k, "+" for spaces (a kernel command line has none)
case $group in
probe)
    step "devices: $(ls /dev/gpiochip* /dev/i2c-* /dev/snd/ 2>&1 | tr '\n' ' ')"
    for a in /sys/bus/i2c/devices/i2c-*; do step "$a: $(cat "$a/name")"; done
    step "gpio-sim: $(ls /sys/devices/platform/gpio-sim.0/gpiochip0/ | head -3 | tr '\n' ' ')"
    lsmod | grep -E 'i2c|gpio|snd_aloop'
    ;;
bench)  # how fast this VM runs Python (to choose QEMU's CPU model)
    python3 - <<'PY'
import subprocess, time
for _ in range(3):
    t = time.perf_counter(); subprocess.run(["python3", "-c", "pass"]); print("pass", time.perf_counter() - t)
t = time.perf_counter(); sum(range(3_000_000)); print("loop", time.perf_counter() - t)
t = time.perf_counter()
subprocess.run(["/opt/bedside-vm-checks/bin/python", "-c", "import numpy; numpy.fft.rfft(numpy.ones(1 << 19))"], check=True)
print("numpy", time.perf_counter() - t)
PY
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
    # The last run's rendered cues, when the host kept them: make install's `voice render` then
    # renders only what is new (the cache names each WAV for all that made it). Given to the
    # service's user after the install, as its own render would have left them.
    if [ -d "$RESULTS/voice-seed" ]; then
        step "the voice cache of the last run: $(ls "$RESULTS/voice-seed" | wc -l) files"
        install -d -m 0755 /var/cache/bedside
        cp "$RESULTS/voice-seed/." /var/cache/bedside/ -a
        chmod -R a+rX /var/cache/bedside
    fi
    step "make install (the wheelhouse stands for PyPI: the VM has no network)"
    started=$(cut -d' ' -f1 /proc/uptime)
    (cd /root/src && PIP_NO_INDEX=1 PIP_FIND_LINKS=/mnt/wheels PIP_DISABLE_PIP_VERSION_CHECK=1 \
        PIP_ROOT_USER_ACTION=ignore make install) >"$RESULTS/install.log" 2>&1
    status=$?
    ended=$(cut -d' ' -f1 /proc/uptime)
    tail -n 5 "$RESULTS/install.log"
    [ $status = 0 ] || { cat "$RESULTS/install.log"; exit $status; }
    printf 'make install in the VM: %.0f s\n' "$(echo "$ended - $started" | bc 2>/dev/null || python3 -c "print($ended - $started)")" >"$RESULTS/install-figures.txt"
    chown -R bedside:bedside /var/cache/bedside && chmod -R go-rwx /var/cache/bedside/*
    checks "$HERE/test_install.py"
    status=$?
    mkdir -p "$RESULTS/voice-cache" && cp -a /var/cache/bedside/. "$RESULTS/voice-cache/"
    exit $status
    ;;
devices)
    # To watch the tests fail (BEDSIDE_VM_BREAK on the host): each breaks one thing they check.
    broken=$(arg break)
    case $broken in
    "") ;;
    pin) sed -i 's/^pin = 17 /pin = 27 /' /etc/bedside/bedside.toml ;;
    address) sed -i 's/^i2c_address = 0x3C /i2c_address = 0x3D /' /etc/bedside/bedside.toml ;;
    device) sed -i 's/^device = "default" /device = "hw:Loopback,1,0" /' /etc/bedside/bedside.toml ;;
    deviceallow) printf '[Service]\nDeviceAllow=\nDeviceAllow=char-i2c rw\nDeviceAllow=char-alsa rw\n' \
        >/etc/systemd/system/bedside.service.d/bedside-vm-broken.conf && systemctl daemon-reload ;;
    wallwatch)  # the installed daemon never hears of a clock set (its timerfd never made)
        sed -i 's/^    fd = int(libc.timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC))$/    fd = -1  # BROKEN ON PURPOSE/' \
            /opt/bedside/venv/lib/python3*/site-packages/bedside/app/wallclock.py
        grep -c 'BROKEN ON PURPOSE' /opt/bedside/venv/lib/python3*/site-packages/bedside/app/wallclock.py ;;
    stagedelay|duckdepth) ;;  # the sound group's
    *) echo "nothing to break called $broken"; exit 2 ;;
    esac
    if [ -n "$broken" ]; then
        step "BROKEN ON PURPOSE: $broken"
        grep -E '^(pin|i2c_address|device) ' /etc/bedside/bedside.toml
        systemctl restart bedside || true
    fi
    checks "$HERE/test_boot.py" "$HERE/test_button.py" "$HERE/test_panel.py" "$HERE/test_speaker.py" \
        "$HERE/test_sandbox.py" "$HERE/test_clock.py"
    ;;
sound)
    # The sound stage of the installed bedside at the loopback card (the daemon stopped by the
    # tests: the card is theirs). To watch them fail, the installed stage broken on purpose:
    # stagedelay: it places sounds as if the card queued nothing (snd_pcm_delay ignored);
    # duckdepth: it dips the soundscape by 12 dB whatever --duck says.
    stage=$(ls /opt/bedside/venv/lib/python3*/site-packages/bedside/sound/stage.py)
    broken=$(arg break)
    case $broken in
    "" | pin | address | device | deviceallow) ;;  # none, or the devices group's
    stagedelay) sed -i 's/queued = self.output.delay()/queued = 0/' "$stage" ;;
    duckdepth) sed -i 's/duck_db=args.duck,/duck_db=12.0,/' "$stage" ;;
    *) echo "nothing to break called $broken"; exit 2 ;;
    esac
    case $broken in stagedelay | duckdepth)
        step "BROKEN ON PURPOSE: $broken"
        ! cmp -s /mnt/src/bedside/sound/stage.py "$stage" || { echo "the break did not apply"; exit 2; }
        diff /mnt/src/bedside/sound/stage.py "$stage" ;;
    esac
    checks "$HERE/test_sound.py"
    ;;
powercut-cut)
    checks "$HERE/test_powercut.py::test_cut"
    ;;
powercut-after)
    checks "$HERE/test_powercut.py" -k test_after
    ;;
*) echo "no group $group"; exit 2 ;;
esac
