#!/usr/bin/env bash
# make test-vm: the installed device on a real Linux kernel's GPIO, sound and I2C devices.
#
# A Debian bookworm image (tests/vm/image.sh, cached in $BEDSIDE_VM_CACHE) is booted in QEMU
# with Debian's own kernel, once per group of tests. The working tree is shared read-only over 9p
# (virtfs), a wheelhouse likewise (the VM has no network), and a results folder writable; the
# serial console goes to a log. The disk is a qcow2 overlay over the cached image:
#   install   a persistent overlay for this run: bedside installed by its own `make install`
#   devices   a throw-away snapshot over it: the button, the panel, the speaker, the sandbox
#   sound     a throw-away snapshot over it: the installed sound stage at the loopback card
#   powercut  a persistent overlay over it: QEMU is killed mid-step (cut), then booted again
#             (after) to see the device come back paused where it was, with its history
# Each group's tests are tests/vm/guest/; the group's rc, its journal and its figures come back
# in the results folder. Every wait has a time limit; on a failure the service's journal and
# the serial log are printed. As root.
#
#   BEDSIDE_VM_ACCEL   tcg (the default), kvm, or auto (kvm if a probe boot works, else tcg)
#   BEDSIDE_VM_GROUPS  the groups to run (default: install devices sound powercut)
#   BEDSIDE_VM_KEEP    1: keep the run's folder (disks, logs) in /var/tmp
#   BEDSIDE_VM_K       a pytest -k expression for the in-VM tests, "+" for each space
#   BEDSIDE_VM_BREAK   pin | address | device | deviceallow | wallwatch: break that on purpose before the
#                      devices group; stagedelay | duckdepth: the installed sound stage before
#                      the sound group; to watch the tests fail (tests/vm/guest/group.sh)
#   BEDSIDE_VM_INSTALLED  a kept run's installed.qcow2: the install group is skipped (a developer's
#                      shortcut while writing tests; CI never sets it)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${BEDSIDE_VM_CACHE:-/var/cache/bedside-vm}
ACCEL=${BEDSIDE_VM_ACCEL:-tcg}
GROUPS_TO_RUN=${BEDSIDE_VM_GROUPS:-install devices sound powercut}
MEMORY=2048
CPUS=2

START=$SECONDS
say() { printf '[test-vm %4ds] %s\n' $((SECONDS - START)) "$*"; }
die() { say "FAILED: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (it builds a disk image): sudo make test-vm"
for tool in qemu-system-x86_64 qemu-img mmdebstrap mkfs.ext4 timeout python3.11; do
    command -v $tool >/dev/null || die "$tool is missing (make test-vm installs it with apt-get)"
done

IMAGE=$("$REPO/tests/vm/image.sh") || die "no image"
KERNEL_RELEASE=$(cat "$IMAGE/kernel-release")

WORK=$(mktemp -d /var/tmp/bedside-vm.XXXXXX)
QEMU_PID=""
cleanup() {
    status=$?
    if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
        kill -KILL "$QEMU_PID" 2>/dev/null || true
        wait "$QEMU_PID" 2>/dev/null || true
    fi
    if [ "${BEDSIDE_VM_KEEP:-}" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the working tree, as it is (tracked and new files, not what .gitignore leaves out) -------
mkdir -p "$WORK/src" "$WORK/results"
(cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -xf - -C "$WORK/src"

# --- the wheelhouse: what `make install` takes from PyPI, keyed by pyproject.toml -------------
# Built here with the same Python as the image's (bookworm's 3.11). lgpio and numpy (the sound
# stage's) come as PyPI's own manylinux wheels for x86_64, checked (numpy built from source under
# TCG would take an hour); spidev (an sdist only) is built into a wheel here.
WHEELS_RECIPE=2
WHEELS=$CACHE/wheels-py311-$(printf '%s\n' "$(sha256sum <"$REPO/pyproject.toml")" "$WHEELS_RECIPE" | sha256sum | cut -c1-12)
if [ ! -d "$WHEELS" ]; then
    say "building the wheelhouse $WHEELS"
    rm -rf "$WHEELS.new"
    cp -a "$WORK/src" "$WORK/wheel-src"
    timeout 900 python3.11 -m pip wheel --quiet --wheel-dir "$WHEELS.new" \
        "$WORK/wheel-src[pi]" pip "setuptools>=77" wheel >"$WORK/wheels.log" 2>&1 ||
        { cat "$WORK/wheels.log"; die "could not build the wheelhouse"; }
    rm -rf "$WHEELS.new"/bedside-*.whl "$WORK/wheel-src"  # bedside: from the source, by make install
    for wheel in 'numpy-*-cp311-*manylinux*_x86_64.whl' 'lgpio-*-cp311-*manylinux*_x86_64.whl'; do
        compgen -G "$WHEELS.new/$wheel" >/dev/null ||
            die "the wheelhouse has no $wheel: $(ls "$WHEELS.new" | tr '\n' ' ')"
    done
    mv "$WHEELS.new" "$WHEELS"
    find "$CACHE" -maxdepth 1 -name 'wheels-py311-*' ! -path "$WHEELS" -exec rm -rf {} +
else
    say "wheelhouse from the cache: $WHEELS"
fi

# --- booting -----------------------------------------------------------------------------------
# boot GROUP DISK SNAPSHOT LIMIT [CUT]: boots the VM with the group named on the kernel's command
# line and waits up to LIMIT s for it to power off. With CUT, QEMU is killed (SIGKILL: the power
# cut) as soon as the guest writes results/GROUP.cut, and that is success.
accel_args() {
    case $1 in
    kvm) echo "-accel kvm -cpu host" ;;
    tcg) echo "-accel tcg,thread=multi,tb-size=512 -cpu max" ;;
    esac
}

boot() {
    local group=$1 disk=$2 snapshot=$3 limit=$4 cut=${5:-} started=$SECONDS status=0
    local serial=$WORK/results/$group-serial.log
    rm -f "$WORK/results/$group.rc" "$WORK/results/$group.cut"
    # shellcheck disable=SC2046
    qemu-system-x86_64 $(accel_args "$ACCEL") -machine q35 -smp $CPUS -m $MEMORY \
        -display none -monitor none -nic none -no-reboot \
        -serial "file:$serial" -device virtio-rng-pci \
        -kernel "$IMAGE/vmlinuz" -initrd "$IMAGE/initrd.img" \
        -append "root=/dev/vda rw console=ttyS0 quiet loglevel=4 systemd.show_status=0 bedside_vm.group=$group bedside_vm.accel=$ACCEL${BEDSIDE_VM_K:+ bedside_vm.k=$BEDSIDE_VM_K}${BEDSIDE_VM_BREAK:+ bedside_vm.break=$BEDSIDE_VM_BREAK}" \
        -drive "file=$disk,if=virtio,format=qcow2,snapshot=$snapshot,cache=writeback" \
        -virtfs "local,path=$WORK/src,mount_tag=src,security_model=none,readonly=on" \
        -virtfs "local,path=$WHEELS,mount_tag=wheels,security_model=none,readonly=on" \
        -virtfs "local,path=$WORK/results,mount_tag=results,security_model=none" \
        </dev/null >"$WORK/results/$group-qemu.log" 2>&1 &
    QEMU_PID=$!
    while kill -0 "$QEMU_PID" 2>/dev/null; do
        if [ -n "$cut" ] && [ -e "$WORK/results/$group.cut" ]; then
            kill -KILL "$QEMU_PID"
            wait "$QEMU_PID" 2>/dev/null || true
            QEMU_PID=""
            say "$group: the power cut (QEMU killed) at $((SECONDS - started)) s"
            return 0
        fi
        if [ $((SECONDS - started)) -ge "$limit" ]; then
            kill -KILL "$QEMU_PID"
            wait "$QEMU_PID" 2>/dev/null || true
            QEMU_PID=""
            say "$group: no power-off within $limit s"
            status=124
            break
        fi
        sleep 1
    done
    if [ $status = 0 ]; then
        wait "$QEMU_PID" || status=$?
        QEMU_PID=""
        [ $status = 0 ] || say "$group: QEMU exited with $status: $(tail -n 5 "$WORK/results/$group-qemu.log")"
    fi
    if [ $status = 0 ] && [ -n "$cut" ]; then
        say "$group: powered off before the cut"
        status=1
    elif [ $status = 0 ]; then
        status=$(cat "$WORK/results/$group.rc" 2>/dev/null || echo "no result")
    fi
    echo "$group $((SECONDS - started))" >>"$WORK/results/boot-times.txt"
    if [ "$status" != 0 ]; then
        say "$group FAILED ($status) after $((SECONDS - started)) s"
        say "--- the serial console (last 80 lines):"
        tail -n 80 "$serial" || true
        if [ -s "$WORK/results/$group-journal.txt" ]; then
            say "--- the journal of bedside and the tests (last 150 lines):"
            grep -E 'bedside|pytest|kernel' "$WORK/results/$group-journal.txt" | tail -n 150 || true
        fi
        return 1
    fi
    say "$group: passed in $((SECONDS - started)) s"
}

# The accelerator: TCG unless asked. `auto` tries KVM once with a probe boot and keeps the answer
# in the cache (a nested KVM under which stock kernels hang is told apart by the time limit).
if [ "$ACCEL" = auto ]; then
    probe=$CACHE/accel-$(printf '%s\n' "$(uname -r)" "$(qemu-system-x86_64 --version | head -1)" \
        "$KERNEL_RELEASE" | sha256sum | cut -c1-12)
    if [ ! -e "$probe" ]; then
        ACCEL=tcg
        if [ -w /dev/kvm ]; then
            say "probing KVM with one boot (120 s at most)"
            ACCEL=kvm
            if boot probe "$IMAGE/disk.qcow2" on 120 >/dev/null 2>&1; then echo kvm >"$probe"; else echo tcg >"$probe"; fi
        else
            echo tcg >"$probe"
        fi
    fi
    ACCEL=$(cat "$probe")
fi
say "accelerator: $ACCEL (kernel $KERNEL_RELEASE, $CPUS vCPUs, $MEMORY MiB)"
echo "$ACCEL" >"$WORK/results/accel.txt"

failed=""
# The voice's cache from the last run's `make install` (keyed by the image: espeak-ng's version
# is in it) is handed to the next one, which then renders only what changed.
SEED=$CACHE/voice-seed-$(basename "$IMAGE")
[ ! -d "$SEED" ] || cp -a "$SEED" "$WORK/results/voice-seed"
if [ -n "${BEDSIDE_VM_INSTALLED:-}" ]; then
    say "using the installed disk $BEDSIDE_VM_INSTALLED (no install group)"
    qemu-img create -q -f qcow2 -b "$(realpath "$BEDSIDE_VM_INSTALLED")" -F qcow2 "$WORK/installed.qcow2"
    GROUPS_TO_RUN=${GROUPS_TO_RUN//install/}
else
    qemu-img create -q -f qcow2 -b "$IMAGE/disk.qcow2" -F qcow2 "$WORK/installed.qcow2"
fi
for group in $GROUPS_TO_RUN; do
    case $group in
    install)
        boot install "$WORK/installed.qcow2" off 1500 || { failed="$failed install"; break; }
        if [ -d "$WORK/results/voice-cache" ]; then
            rm -rf "$SEED.new" && mv "$WORK/results/voice-cache" "$SEED.new" &&
                rm -rf "$SEED" && mv "$SEED.new" "$SEED"
            find "$CACHE" -maxdepth 1 -name 'voice-seed-*' ! -path "$SEED" -exec rm -rf {} +
        fi
        ;;
    devices) boot devices "$WORK/installed.qcow2" on 1500 || failed="$failed devices" ;;
    sound) boot sound "$WORK/installed.qcow2" on 900 || failed="$failed sound" ;;
    powercut)
        qemu-img create -q -f qcow2 -b "$WORK/installed.qcow2" -F qcow2 "$WORK/powercut.qcow2"
        if boot powercut-cut "$WORK/powercut.qcow2" off 600 cut; then
            boot powercut-after "$WORK/powercut.qcow2" off 600 || failed="$failed powercut"
        else
            failed="$failed powercut"
        fi
        ;;
    *) die "no group named $group" ;;
    esac
done

say "figures (accelerator: $ACCEL):"
cat "$WORK"/results/*-figures.txt 2>/dev/null | sed 's/^/    /' || true
say "boot to power-off, each group:"
sed 's/^/    /' "$WORK/results/boot-times.txt" 2>/dev/null || true
if [ -n "${BEDSIDE_VM_RESULTS:-}" ]; then
    mkdir -p "$BEDSIDE_VM_RESULTS" && cp -a "$WORK/results/." "$BEDSIDE_VM_RESULTS/"
fi
[ -z "$failed" ] || die "failed:$failed"
say "passed in $((SECONDS - START)) s"
