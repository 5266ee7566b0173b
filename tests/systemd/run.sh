#!/usr/bin/env bash
# `make test-systemd`: the unit under a real systemd. A Debian bookworm root filesystem
# (debootstrap, cached between runs) is booted with systemd-nspawn, so systemd is PID 1 even
# where this machine's own PID 1 is not; the project's own `make install` runs inside it, with
# one drop-in that adds --mock-hardware; then tests/systemd/test_unit.py checks the running
# service from inside. The container has no network: Python packages come from a wheelhouse
# built here beforehand, Debian packages are in the root filesystem already.
#
# Every wait has a timeout; on failure the service's journal is printed. As root.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${BEDSIDE_CI_CACHE:-/var/cache/bedside-ci}
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# What `make install` needs (it must not reach for apt-get: there is no network inside), and
# what the checks use.
PACKAGES=systemd,systemd-sysv,dbus,python3,python3-venv,make,espeak-ng,alsa-utils,sox,fonts-dejavu-core,ca-certificates,procps,iproute2
# Bumped when the preparation below changes, so an old cached root filesystem is not reused.
ROOTFS_RECIPE=1

START=$SECONDS
say() { printf '[test-systemd %3ds] %s\n' $((SECONDS - START)) "$*"; }
die() { say "FAILED: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (it boots a container): sudo make test-systemd"
for tool in debootstrap systemd-nspawn nsenter timeout; do
    command -v $tool >/dev/null || die "$tool is missing (apt-get install debootstrap systemd-container)"
done
mkdir -p "$CACHE"

# --- the root filesystem, keyed by what it holds -----------------------------------------
key=$(printf '%s\n' "$SUITE" "$PACKAGES" "$ROOTFS_RECIPE" "$(uname -m)" | sha256sum | cut -c1-12)
ROOTFS=$CACHE/rootfs-$SUITE-$key
if [ ! -x "$ROOTFS/usr/lib/systemd/systemd" ]; then
    say "building the $SUITE root filesystem in $ROOTFS (about a minute)"
    rm -rf "$ROOTFS.new"
    ok=""
    for attempt in 1 2; do  # one retry: a mirror hiccup should not fail the run
        if timeout 900 debootstrap --variant=minbase --include="$PACKAGES" \
            "$SUITE" "$ROOTFS.new" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1; then
            ok=1; break
        fi
        say "debootstrap attempt $attempt failed: $(tail -n 3 "$CACHE/debootstrap.log")"
        rm -rf "$ROOTFS.new"
    done
    [ -n "$ok" ] || die "debootstrap failed; see $CACHE/debootstrap.log"
    echo bedside-ci >"$ROOTFS.new/etc/hostname"
    # Nobody logs in: no getty on the console.
    ln -sf /dev/null "$ROOTFS.new/etc/systemd/system/console-getty.service"
    rm -f "$ROOTFS.new"/var/cache/apt/archives/*.deb
    mv "$ROOTFS.new" "$ROOTFS"
    for old in "$CACHE"/rootfs-*; do  # earlier recipes
        [ "$old" = "$ROOTFS" ] || rm -rf "$old"
    done
else
    say "root filesystem from the cache: $ROOTFS"
fi

# --- a wheelhouse for the container's Python, keyed by pyproject.toml ----------------------
pyver=$(basename "$(readlink -f "$ROOTFS/usr/bin/python3")")  # python3.11
host_python=$(command -v "$pyver" || true)
[ -n "$host_python" ] || die "$pyver is needed here to build wheels for the container's $pyver"
key=$(cat "$REPO/pyproject.toml" | sha256sum | cut -c1-12)
WHEELS=$CACHE/wheels-$pyver-$key

WORK=$(mktemp -d /var/tmp/bedside-systemd.XXXXXX)
CGROUP=""
NSPAWN=""
LEADER=""
cleanup() {
    status=$?
    if [ -n "$NSPAWN" ] && kill -0 "$NSPAWN" 2>/dev/null; then
        [ -z "$LEADER" ] || inside 30 systemctl poweroff --no-block >/dev/null 2>&1 || true
        for _ in $(seq 60); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 0.5; done
        kill -TERM "$NSPAWN" 2>/dev/null && sleep 3
        kill -KILL "$NSPAWN" 2>/dev/null || true
        wait "$NSPAWN" 2>/dev/null || true
    fi
    # nspawn's cgroup and what the container's systemd made under it, deepest first.
    if [ -n "$CGROUP" ] && [ -d "$CGROUP" ]; then
        find "$CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null || true
        [ ! -d "$CGROUP" ] || say "could not remove $CGROUP"
    fi
    rm -rf "$WORK"
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The working tree as it is (tracked and new files, not what .gitignore leaves out), copied:
# `pip install .` writes its build folders into the source.
mkdir -p "$WORK/src" "$WORK/results"
if git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        tar --null -T - -cf -) | tar -xf - -C "$WORK/src"
else  # an unpacked release: all of it but what builds and tests leave behind
    tar -C "$REPO" --exclude=./.venv --exclude=./build --exclude='*.egg-info' -cf - . |
        tar -xf - -C "$WORK/src"
fi

if [ ! -d "$WHEELS" ]; then
    say "building the wheelhouse $WHEELS with $host_python"
    rm -rf "$WHEELS.new"
    # pip and setuptools for `make install` (it upgrades pip; bedside builds with setuptools),
    # pytest for the checks.
    timeout 900 "$host_python" -m pip wheel --quiet --no-cache-dir --wheel-dir "$WHEELS.new" \
        "$WORK/src[pi]" pip "setuptools>=77" wheel pytest >"$CACHE/wheels.log" 2>&1 ||
        { cat "$CACHE/wheels.log"; die "could not build the wheelhouse"; }
    rm -f "$WHEELS.new"/bedside-*.whl  # installed from the source by `make install`
    rm -rf "$WORK/src/build" "$WORK/src"/*.egg-info
    mv "$WHEELS.new" "$WHEELS"
    for old in "$CACHE"/wheels-*; do
        [ "$old" = "$WHEELS" ] || rm -rf "$old"
    done
else
    say "wheelhouse from the cache: $WHEELS"
fi

# --- boot ----------------------------------------------------------------------------------
# nspawn without a system bus or machined (--register=no --keep-unit) runs in the cgroup it is
# started from: give it one of its own. On a hybrid host (cgroup v1 with v2 at .../unified),
# SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 and --system-call-filter=bpf let the container's systemd
# use BPF for DevicePolicy=/DeviceAllow=/IPAddressDeny=; without them they are not enforced.
if [ -d /sys/fs/cgroup/unified ]; then cgroot=/sys/fs/cgroup/unified; else cgroot=/sys/fs/cgroup; fi
CGROUP=$cgroot/bedside-ci-$$
mkdir "$CGROUP"
say "booting the container"
# The root filesystem stays as cached: writes go to a tmpfs overlay (--volatile=overlay).
bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "$CGROUP" \
    env SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn --quiet --boot \
    --register=no --keep-unit --private-network --system-call-filter=bpf \
    --volatile=overlay --link-journal=no --machine=bedside-ci --directory="$ROOTFS" \
    --bind="$WORK/src:/src" --bind-ro="$WHEELS:/wheels" --bind="$WORK/results:/results" \
    </dev/null >"$WORK/console.log" 2>&1 &
NSPAWN=$!

# The container's PID 1 is nspawn's child. It is looked for often, so that every run meets it
# as early as it can be met: just after the exec, before it has mounted /run or opened its bus
# (the wait for the boot below must hold from that moment; CI once asked 1 s in and failed).
for _ in $(seq 600); do
    LEADER=$(pgrep -P "$NSPAWN" -x systemd || true)
    [ -n "$LEADER" ] && break
    kill -0 "$NSPAWN" 2>/dev/null || { cat "$WORK/console.log"; die "systemd-nspawn ended"; }
    sleep 0.05
done
[ -n "$LEADER" ] || { cat "$WORK/console.log"; die "no systemd in the container after 30 s"; }

# A command inside the container (its namespaces and root), with a clean environment and a
# time limit. pip finds packages in the wheelhouse only.
inside() {
    local limit=$1
    shift
    timeout --kill-after=10 "$limit" nsenter --target "$LEADER" --mount --uts --ipc --net \
        --pid --cgroup --root --wd -- /usr/bin/env -i \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        LANG=C.UTF-8 PIP_NO_INDEX=1 PIP_FIND_LINKS=/wheels PIP_DISABLE_PIP_VERSION_CHECK=1 \
        PIP_ROOT_USER_ACTION=ignore "$@"
}

figures() {
    [ ! -s "$WORK/results/figures.txt" ] || { say "figures:"; sed 's/^/    /' "$WORK/results/figures.txt"; }
}

journal() {
    say "the container's journal for bedside:"
    inside 30 journalctl --no-pager -o short-monotonic -n 300 -u 'bedside*' || true
}

# Until PID 1 has made /run/systemd/system and its private bus socket, systemctl answers
# "offline" or cannot connect at all ("Failed to connect to bus"), so it is asked again; once
# it answers, --wait holds until the boot is done. One deadline for all of it.
boot_deadline=$((SECONDS + 120))
while :; do
    state=$(inside 120 systemctl is-system-running --wait 2>"$WORK/state.err" || true)
    case $state in "" | offline) ;; *) break ;; esac
    [ $SECONDS -lt $boot_deadline ] && kill -0 "$NSPAWN" 2>/dev/null || break
    sleep 0.2
done
case $state in
running | degraded) say "booted in $((SECONDS - START)) s so far: $state" ;;
*) cat "$WORK/console.log" "$WORK/state.err"; die "the container did not boot: '$state'" ;;
esac
[ "$state" = running ] || inside 30 systemctl --no-pager --failed || true

# --- install, as a user would, with the one drop-in ------------------------------------------
# The unit's own ExecStart, plus --mock-hardware: no GPIO, I2C or sound card in here.
exec_start=$(grep -m1 '^ExecStart=' "$REPO/systemd/bedside.service")
inside 30 sh -c 'mkdir -p /etc/systemd/system/bedside.service.d &&
    printf "[Service]\nExecStart=\n%s --mock-hardware\n" "$1" \
        >/etc/systemd/system/bedside.service.d/mock-hardware.conf' _ "$exec_start"

say "make install"
t0=$SECONDS
inside 900 sh -c 'cd /src && make install' >"$WORK/install.log" 2>&1 ||
    { cat "$WORK/install.log"; journal; die "make install failed"; }
tail -n 3 "$WORK/install.log"
say "make install took $((SECONDS - t0)) s"

# --- the checks -------------------------------------------------------------------------------
inside 300 sh -c 'python3 -m venv /root/checks && /root/checks/bin/pip install --quiet pytest' ||
    die "could not install pytest in the container"
say "the checks (tests/systemd/test_unit.py)"
if ! inside 900 env BEDSIDE_SYSTEMD_CHECKS=1 /root/checks/bin/python -m pytest \
    -p no:cacheprovider --confcutdir=/src/tests/systemd --rootdir=/src/tests/systemd \
    -o addopts= -v /src/tests/systemd; then
    journal
    figures
    die "the unit failed its checks (above)"
fi
figures
say "passed in $((SECONDS - START)) s"
