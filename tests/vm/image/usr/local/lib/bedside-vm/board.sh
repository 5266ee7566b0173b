#!/bin/sh
# make test-vm (TEST ONLY): the Raspberry Pi 4 this VM stands for.
#   board.sh              everything, at boot (bedside-vm-board.service)
#   board.sh chip up|down the GPIO chip: gpio-sim's 58-line bank labelled pinctrl-bcm2711
#   board.sh bus up|down  I2C bus 1 with the panel (the bedside-i2c module loaded or removed)
set -eu
SIM=/sys/kernel/config/gpio-sim
CHIP=$SIM/bedside-pi

chip_up() {
    modprobe gpio-sim
    mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
    if [ ! -d "$CHIP" ]; then
        mkdir "$CHIP" "$CHIP/bank0"
        echo 58 >"$CHIP/bank0/num_lines"
        echo pinctrl-bcm2711 >"$CHIP/bank0/label"
        i=0
        while [ $i -lt 58 ]; do  # every line named as on the Pi: GPIO0 ... GPIO57
            mkdir "$CHIP/bank0/line$i"
            echo "GPIO$i" >"$CHIP/bank0/line$i/name"
            i=$((i + 1))
        done
    fi
    echo 1 >"$CHIP/live"
}

chip_down() {
    [ ! -d "$CHIP" ] || echo 0 >"$CHIP/live"
}

case "${1:-all} ${2:-}" in
"chip up") chip_up ;;
"chip down") chip_down ;;
"bus up") modprobe i2c-dev && modprobe bedside-i2c ;;
"bus down") modprobe -r bedside-i2c ;;
"all ")
    chip_up
    modprobe i2c-dev
    modprobe bedside-i2c
    modprobe snd-aloop
    mkdir -p /run/bedside-vm
    # The machine's own lines, and a Pi 4 Model B's (gpiozero reads Revision).
    { sed '/^$/d' /proc/cpuinfo
      printf 'Hardware\t: BCM2835\nRevision\t: c03114\nSerial\t\t: 10000000bedside0\n'
      printf 'Model\t\t: Raspberry Pi 4 Model B Rev 1.4\n'; } >/run/bedside-vm/cpuinfo
    udevadm settle --timeout=20
    ;;
*) echo "usage: board.sh [chip|bus up|down]" >&2; exit 2 ;;
esac
