#!/usr/bin/env bash
# make test-arm64: bedside on arm64 Debian, as Raspberry Pi OS 64-bit is (bookworm with Python
# 3.11, trixie with Python 3.13), under qemu-user on any Linux machine. As root.
#
# For each release: a debootstrapped arm64 root filesystem (built once and kept in $CACHE,
# keyed by release and package list), an overlay over it that is thrown away after the run, the
# working tree copied in, and tests/arm64/inside.sh run in it through chroot. The kernel runs
# the arm64 programs through qemu-aarch64-static, registered with binfmt_misc ("F": the
# emulator is opened now, so it works inside the chroot without a copy there).
#
#   BEDSIDE_ARM64_RELEASES  the releases to run (default: bookworm trixie)
#   BEDSIDE_ARM64_CACHE     where the root filesystems and pip's cache live (outside the repo)
#   BEDSIDE_ARM64_CPU       the emulated CPU (default cortex-a53, a Pi Zero 2 W's and Pi 3's;
#                           "max" emulates pointer authentication, about 7x slower on trixie)
#   BEDSIDE_ARM64_K         a pytest -k expression: only the tests it picks (while a fix is
#                           tried; CI runs the whole suite)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
RELEASES=${BEDSIDE_ARM64_RELEASES:-bookworm trixie}
CACHE=${BEDSIDE_ARM64_CACHE:-/var/cache/bedside-arm64}
CPU=${BEDSIDE_ARM64_CPU:-cortex-a53}
MIRROR=${BEDSIDE_ARM64_MIRROR:-http://deb.debian.org/debian}
# What a root filesystem holds besides Debian's minimal base: Python, make, and what `make test`
# would install with apt-get (speech, sound, systemd-analyze, the font). No ca-certificates: pip is
# given the host's bundle. On trixie also what `make install` needs there to build lgpio from
# its own sources, PyPI having no wheel for Python 3.13 (a compiler, swig, the Python headers).
PACKAGES="python3 python3-venv make espeak-ng alsa-utils sox systemd fonts-dejavu-core"
BUILD_PACKAGES="python3-dev gcc libc6-dev swig"
# Both releases build from source what has no wheel for arm64 (spidev everywhere, lgpio on
# trixie's Python 3.13): the compiler and headers are in both root filesystems.
packages() { echo $PACKAGES $BUILD_PACKAGES; }
# Time limits (seconds): building one root filesystem, and one release's whole run inside it.
BUILD_LIMIT=1200
RUN_LIMIT=2100  # the two releases share two cores: about 15 min each here

say() { printf '== arm64: %s\n' "$*" >&2; }
die() { printf 'make test-arm64: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mounts): sudo make test-arm64"

need=""
command -v debootstrap >/dev/null || need="$need debootstrap"
[ -x /usr/bin/qemu-aarch64-static ] || need="$need qemu-user-static"
if [ -n "$need" ]; then
    say "installing Debian packages:$need"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

# binfmt_misc: mount it if nobody has, and register the emulator unless an entry with the fixed
# binary ("F") flag already runs arm64 programs (binfmt-support's own qemu-aarch64 does).
BINFMT=/proc/sys/fs/binfmt_misc
[ -e $BINFMT/register ] || mount -t binfmt_misc binfmt_misc $BINFMT ||
    die "cannot mount binfmt_misc on $BINFMT (a container without the privilege?)"
registered=""
for entry in $BINFMT/*; do
    case ${entry##*/} in register | status) continue ;; esac
    grep -q '^magic 7f454c460201010000000000000000000200b700' "$entry" &&
        grep -q '^enabled' "$entry" && grep -q '^flags:.*F' "$entry" && registered=$entry
done
if [ -z "$registered" ]; then
    [ -e $BINFMT/qemu-aarch64 ] && echo -1 >$BINFMT/qemu-aarch64  # without F: replace it
    say "registering qemu-aarch64-static with binfmt_misc"
    printf '%s' ':qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-aarch64-static:F' \
        >$BINFMT/register
fi

key_of() {  # the cache key: release, package list and mirror
    printf '%s\n' "$1" $(packages "$1") "$MIRROR" | sha256sum | cut -c1-12
}

rootfs() {  # the cached root filesystem of a release, built when missing
    local release=$1 dir building
    dir="$CACHE/rootfs-$release-$(key_of "$release")"
    if [ ! -e "$dir/.complete" ]; then
        building="$dir.building"
        rm -rf "$building"
        mkdir -p "$CACHE"
        say "building the $release arm64 root filesystem (once; kept in $CACHE)"
        local started=$SECONDS
        timeout --kill-after=30 $BUILD_LIMIT debootstrap --arch=arm64 --variant=minbase \
            --include="$(packages "$release" | tr ' ' ,)" "$release" "$building" "$MIRROR" \
            >"$CACHE/debootstrap-$release.log" 2>&1 ||
            { tail -20 "$CACHE/debootstrap-$release.log" >&2; die "debootstrap $release failed"; }
        rm -rf "$building"/var/cache/apt/archives/*.deb
        touch "$building/.complete"
        rm -rf "$dir"
        mv "$building" "$dir"
        # A root filesystem of an older package list is not used again.
        find "$CACHE" -maxdepth 1 -name "rootfs-$release-*" ! -path "$dir" -exec rm -rf {} +
        say "$release root filesystem built in $((SECONDS - started)) s"
    fi
    echo "$dir"
}

# Both releases run at once, one a core, each in a subshell with its own mounts and clean-up.
MERGED=""
WORK=""
cleanup() {
    [ -n "$MERGED" ] || return 0
    # Whatever still runs inside this run's root (a daemon a timeout cut short) ends with it.
    local pid
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$MERGED" ] && kill -9 "$pid" 2>/dev/null
    done
    sleep 0.2
    umount -R "$MERGED" 2>/dev/null || umount -R -l "$MERGED" 2>/dev/null || true
    rm -rf "$WORK"
    MERGED=""
}

run_release() {
    local release=$1 lower started=$SECONDS status=0
    trap cleanup EXIT
    trap 'exit 143' TERM INT
    lower=$(rootfs "$release")
    WORK=$(mktemp -d "$CACHE/run-$release.XXXXXX")
    MERGED=$WORK/root
    mkdir -p "$WORK/upper" "$WORK/work" "$MERGED" "$CACHE/pip-$release"
    mount -t overlay overlay -o "lowerdir=$lower,upperdir=$WORK/upper,workdir=$WORK/work" "$MERGED"
    mount -t proc proc "$MERGED/proc"
    mount --rbind /dev "$MERGED/dev" && mount --make-rslave "$MERGED/dev"
    mount -t tmpfs -o mode=1777 tmpfs "$MERGED/tmp"
    mkdir -p "$MERGED/root/.cache/pip"
    mount --bind "$CACHE/pip-$release" "$MERGED/root/.cache/pip"
    cp -L /etc/resolv.conf "$MERGED/etc/resolv.conf"
    # The host's CA bundle, for pip behind a proxy that signs with a CA of its own.
    cp -L /etc/ssl/certs/ca-certificates.crt "$MERGED/etc/host-ca.crt"
    # The working tree as it is (committed or not), without what git ignores.
    mkdir "$MERGED/src"
    git -C "$REPO" ls-files -z --cached --others --exclude-standard |
        (cd "$REPO" && tar --null --ignore-failed-read -T - -cf - 2>/dev/null) |
        tar -C "$MERGED/src" -xf -

    say "$release: installing and testing (QEMU_CPU=$CPU)"
    # In the background and waited for, so that a TERM reaches the trap at once.
    timeout --kill-after=30 $RUN_LIMIT chroot "$MERGED" /usr/bin/env -i \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        LANG=C.UTF-8 CI="${CI:-}" QEMU_CPU="$CPU" BEDSIDE_EMULATOR=qemu-user \
        PIP_CERT=/etc/host-ca.crt PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=60 \
        BEDSIDE_RELEASE="$release" BEDSIDE_ARM64_K="${BEDSIDE_ARM64_K:-}" \
        /bin/bash /src/tests/arm64/inside.sh &
    wait $! || status=$?
    [ $status = 124 ] && say "$release: stopped after $RUN_LIMIT s"
    say "$release: $([ $status = 0 ] && echo passed || echo "FAILED ($status)") in $((SECONDS - started)) s"
    return $status
}

started=$SECONDS
pids=""
for release in $RELEASES; do
    # Each line says which release it comes from.
    run_release "$release" > >(sed -u "s/^/$release | /") 2>&1 &
    pids="$pids $!"
done
trap 'kill -TERM $pids 2>/dev/null; wait; exit 130' INT TERM
failed=0
for pid in $pids; do wait "$pid" || failed=1; done
[ $failed = 0 ] || die "failed (see above) after $((SECONDS - started)) s"
say "passed on $RELEASES in $((SECONDS - started)) s"
