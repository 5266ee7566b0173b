#!/usr/bin/env bash
# make test-vm: the VM's disk image, built when missing and cached under $BEDSIDE_VM_CACHE
# (/var/cache/bedside-vm), keyed by the recipe that made it. Prints the image's folder
# (disk.qcow2, vmlinuz, initrd.img, kernel-release) on stdout. As root.
#
# Two stages, each kept:
#   base-KEY/   a Debian bookworm root filesystem (mmdebstrap), with Debian's own kernel, its
#               headers, and the four source files of linux-source-6.1 that gpio-sim needs.
#               KEY: the package list, the mirrors and BASE_RECIPE.
#   image-KEY/  that, plus the test-only modules built against the image's kernel
#               (tests/vm/modules), the test-only files that make the VM look like a Pi
#               (tests/vm/image), and a venv with the in-VM tests' own tools (pytest, numpy),
#               as an ext4 disk in qcow2. KEY: the base's, those files' contents, IMAGE_RECIPE.
# bedside itself is never in the image: every run installs the working tree with `make install`.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${BEDSIDE_VM_CACHE:-/var/cache/bedside-vm}
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
SOURCES=("deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" "deb $SECURITY $SUITE-security main")
# Booting and systemd; Debian's kernel (its headers and sources only to build the modules); what
# `make install` needs without a network (Python, make; speech and sound: espeak-ng, alsa-utils,
# sox; a compiler, swig and the Python headers for pip packages that build from source); the sound
# stage's libasound2, which it loads itself (ctypes), named though alsa-utils brings it, and
# alsa-utils' arecord, which records the loopback card for the tests; i2c-tools for a person
# looking around.
PACKAGES=systemd,systemd-sysv,udev,dbus,kmod,procps,iproute2,initramfs-tools,linux-image-amd64,linux-headers-amd64,linux-source-6.1,xz-utils,python3,python3-venv,python3-dev,make,gcc,libc6-dev,swig,espeak-ng,libasound2,alsa-utils,sox,i2c-tools
# And whatever `make install` would fetch with apt-get (the Makefile's DEB, "shows:package" pairs,
# read from it so the image follows it: faketime and fonts-dejavu-core joined it), here
# beforehand: the VM has no network. They are in the base's key with the rest.
MAKEFILE_DEBS=$(make -s -C "$REPO" -pn system-deps 2>/dev/null | sed -n 's/^DEB := //p' |
    tr ' ' '\n' | sed -n 's/^[^:]*://p' | LC_ALL=C sort -u | paste -sd, -)
[ -n "$MAKEFILE_DEBS" ] || { echo "test-vm image: cannot read DEB from the Makefile" >&2; exit 1; }
PACKAGES=$PACKAGES,$MAKEFILE_DEBS
BASE_RECIPE=1
IMAGE_RECIPE=1
CHECKS="pytest numpy"  # the in-VM tests' tools, in their own venv (/opt/bedside-vm-checks)

START=$SECONDS
say() { printf '[test-vm image %3ds] %s\n' $((SECONDS - START)) "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }
sha() { sha256sum | cut -c1-12; }

mkdir -p "$CACHE"

# --- the base root filesystem ------------------------------------------------------------
base_key=$(printf '%s\n' "$SUITE" "$PACKAGES" "${SOURCES[@]}" "$BASE_RECIPE" | sha)
BASE=$CACHE/base-$base_key
if [ ! -e "$BASE/.complete" ]; then
    say "building the $SUITE root filesystem $BASE (mmdebstrap, about 2 minutes)"
    rm -rf "$BASE.new"
    ok=""
    for attempt in 1 2; do  # one retry: a mirror hiccup should not fail the run
        if timeout --kill-after=30 1200 mmdebstrap --variant=minbase --mode=root \
            --include="$PACKAGES" "$SUITE" "$BASE.new" "${SOURCES[@]}" \
            >"$CACHE/mmdebstrap.log" 2>&1; then
            ok=1
            break
        fi
        say "mmdebstrap attempt $attempt failed: $(tail -n 3 "$CACHE/mmdebstrap.log")"
        rm -rf "$BASE.new"
    done
    [ -n "$ok" ] || die "mmdebstrap failed; see $CACHE/mmdebstrap.log"
    # Of linux-source-6.1 only what gpio-sim is built from (tests/vm/modules/Kbuild).
    mkdir -p "$BASE.new/usr/src/bedside-vm-ksrc"
    tar -xJf "$BASE.new"/usr/src/linux-source-6.1.tar.xz -C "$BASE.new/usr/src/bedside-vm-ksrc" \
        --strip-components=1 linux-source-6.1/drivers/gpio/gpio-sim.c \
        linux-source-6.1/drivers/gpio/gpiolib.h linux-source-6.1/kernel/irq/irq_sim.c
    chroot "$BASE.new" dpkg --purge linux-source-6.1 >/dev/null
    rm -rf "$BASE.new"/var/cache/apt/archives/*.deb "$BASE.new"/var/lib/apt/lists/*
    touch "$BASE.new/.complete"
    mv "$BASE.new" "$BASE"
    find "$CACHE" -maxdepth 1 -name 'base-*' ! -path "$BASE" -exec rm -rf {} +  # older recipes
    say "base built"
else
    say "base root filesystem from the cache: $BASE"
fi

# --- the image -----------------------------------------------------------------------------
files_key=$(cd "$REPO/tests/vm" && find modules image -type f | LC_ALL=C sort |
    while read -r f; do printf '%s %s %s\n' "$f" "$(stat -c %a "$f")" "$(sha256sum <"$f")"; done | sha)
image_key=$(printf '%s\n' "$base_key" "$files_key" "$IMAGE_RECIPE" "$CHECKS" | sha)
IMAGE=$CACHE/image-$image_key
if [ ! -e "$IMAGE/.complete" ]; then
    say "building the image $IMAGE"
    BUILD=$IMAGE.build
    rm -rf "$BUILD"
    mkdir -p "$BUILD"
    ROOT=$BUILD/root
    cp -a "$BASE" "$ROOT"
    rm -f "$ROOT/.complete"
    kver=$(ls "$ROOT/lib/modules")
    [ "$(echo "$kver" | wc -w)" = 1 ] || die "expected one kernel in the image, found: $kver"

    say "building gpio-sim and bedside-i2c against $kver"
    SRC=$ROOT/usr/src/bedside-vm-modules
    mkdir -p "$SRC"
    cp "$REPO"/tests/vm/modules/* "$SRC/"
    cp "$ROOT/usr/src/bedside-vm-ksrc/drivers/gpio/gpio-sim.c" "$SRC/gpio_sim_main.c"
    cp "$ROOT/usr/src/bedside-vm-ksrc/drivers/gpio/gpiolib.h" "$SRC/gpiolib.h"
    cp "$ROOT/usr/src/bedside-vm-ksrc/kernel/irq/irq_sim.c" "$SRC/irq_sim.c"
    # The one change: irq_to_desc() is not exported to modules; generic_handle_irq() looks the
    # descriptor up itself and runs the same flow handler.
    grep -q 'handle_simple_irq(irq_to_desc(irqnum));' "$SRC/irq_sim.c" ||
        die "irq_sim.c no longer calls handle_simple_irq(irq_to_desc(irqnum)): look again"
    sed -i 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' "$SRC/irq_sim.c"
    chroot "$ROOT" make -C "/lib/modules/$kver/build" M=/usr/src/bedside-vm-modules modules \
        >"$BUILD/modules.log" 2>&1 || { cat "$BUILD/modules.log" >&2; die "the modules did not build"; }
    mkdir -p "$ROOT/lib/modules/$kver/updates/bedside-vm"
    cp "$SRC"/gpio-sim.ko "$SRC"/bedside-i2c.ko "$ROOT/lib/modules/$kver/updates/bedside-vm/"
    chroot "$ROOT" depmod -a "$kver"

    # What the sound stage and its test open: libasound by its soname (ctypes.util.find_library
    # asks ldconfig), arecord and aplay.
    chroot "$ROOT" sh -c 'ldconfig -p | grep -q "libasound.so.2 " && command -v arecord && command -v aplay' \
        >/dev/null || die "the image lacks libasound.so.2, arecord or aplay"

    say "the test-only files and the checks' venv"
    cp -a "$REPO/tests/vm/image/." "$ROOT/"
    # Raspberry Pi OS has these groups, and its udev rules give them the GPIO and I2C nodes.
    chroot "$ROOT" sh -c 'for g in gpio i2c; do getent group $g >/dev/null || groupadd --system $g; done'
    echo bedside-vm >"$ROOT/etc/hostname"
    printf '/dev/vda / ext4 defaults,errors=remount-ro 0 1\n' >"$ROOT/etc/fstab"
    chroot "$ROOT" systemd-machine-id-setup >/dev/null 2>&1
    chroot "$ROOT" systemctl enable bedside-vm-board.service bedside-vm-group.service >/dev/null 2>&1
    # Nobody logs in, nothing runs on a timer: a quieter, faster boot under emulation.
    chroot "$ROOT" systemctl mask getty@tty1.service serial-getty@ttyS0.service \
        apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
        fstrim.timer man-db.timer dpkg-db-backup.timer systemd-tmpfiles-clean.timer \
        >/dev/null 2>&1
    WHEELS=$CACHE/checks-wheels-$(printf '%s\n' "$CHECKS" | sha)
    if [ ! -d "$WHEELS" ]; then
        rm -rf "$WHEELS.new"
        timeout 600 python3 -m pip download --quiet --only-binary :all: -d "$WHEELS.new" $CHECKS ||
            die "could not download $CHECKS"
        mv "$WHEELS.new" "$WHEELS"
    fi
    mkdir -p "$ROOT/tmp/checks-wheels"
    cp "$WHEELS"/*.whl "$ROOT/tmp/checks-wheels/"
    env -u PIP_FIND_LINKS -u PIP_CERT chroot "$ROOT" sh -c 'python3 -m venv /opt/bedside-vm-checks &&
        /opt/bedside-vm-checks/bin/pip install --quiet --no-index --find-links /tmp/checks-wheels '"$CHECKS" ||
        die "could not make the checks venv"
    rm -rf "$ROOT/tmp/checks-wheels"
    # The kernel's headers and the module sources stay out of the booted image.
    chroot "$ROOT" sh -c 'dpkg --purge $(dpkg-query -W -f "\${Package}\n" "linux-headers-*" "linux-kbuild-*") >/dev/null'
    rm -rf "$ROOT/usr/src/bedside-vm-ksrc" "$SRC"

    cp "$ROOT/boot/vmlinuz-$kver" "$BUILD/vmlinuz"
    cp "$ROOT/boot/initrd.img-$kver" "$BUILD/initrd.img"
    echo "$kver" >"$BUILD/kernel-release"
    say "making the ext4 disk"
    truncate -s 8G "$BUILD/disk.raw"
    mkfs.ext4 -q -F -L bedside-vm -d "$ROOT" "$BUILD/disk.raw" || die "mkfs.ext4 failed"
    qemu-img convert -O qcow2 "$BUILD/disk.raw" "$BUILD/disk.qcow2"
    rm -rf "$BUILD/disk.raw" "$ROOT"
    touch "$BUILD/.complete"
    rm -rf "$IMAGE"
    mv "$BUILD" "$IMAGE"
    find "$CACHE" -maxdepth 1 -name 'image-*' ! -path "$IMAGE" -exec rm -rf {} +  # older recipes
    say "image built"
else
    say "image from the cache: $IMAGE"
fi
echo "$IMAGE"
