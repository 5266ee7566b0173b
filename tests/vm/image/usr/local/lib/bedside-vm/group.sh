#!/bin/sh
# make test-vm (TEST ONLY): this boot's group of tests. The working tree is shared read-only as
# 9p tag "src", the wheelhouse as "wheels", the results folder writable as "results"; the group's own script is
# tests/vm/guest/group.sh in the working tree, so the image need not change when the tests do.
# Whatever happens, the VM powers off at the end: the host waits for QEMU to exit.
group=$(sed -n 's/.*bedside_vm\.group=\([^ ]*\).*/\1/p' /proc/cmdline)
mkdir -p /mnt/src /mnt/wheels /mnt/results
modprobe 9pnet_virtio
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 src /mnt/src &&
    mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 wheels /mnt/wheels &&
    mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results /mnt/results ||
    { echo "bedside-vm: cannot mount the 9p shares"; systemctl poweroff --no-block; exit 1; }
echo "bedside-vm: group $group starting at $(cut -d' ' -f1 /proc/uptime) s of uptime"
status=0
/bin/bash /mnt/src/tests/vm/guest/group.sh "$group" || status=$?
echo "$status" >"/mnt/results/$group.rc"
journalctl --no-pager -o short-monotonic -b >"/mnt/results/$group-journal.txt" 2>&1 || true
sync
echo "bedside-vm: group $group ended with status $status"
systemctl poweroff --no-block
