"""make test-vm's in-VM tests (tests/vm/guest) need the VM's devices and run only inside it,
started by tests/vm/guest/group.sh with this folder out of reach: the quick suite leaves them
alone."""

collect_ignore = ["guest"]
