"""make test-vm: run by probe units that carry bedside.service's sandbox. Waits for the node
named first (unless '-'), then tries to open each node named after it; prints JSON."""

import errno
import json
import os
import sys
import time

wait, *paths = sys.argv[1:]
if wait != "-":
    deadline = time.monotonic() + 60
    while not os.path.exists(wait) and time.monotonic() < deadline:
        time.sleep(0.1)
out = {"user": os.getuid()}
for path in paths:
    try:
        os.close(os.open(path, os.O_RDWR | os.O_NONBLOCK))
        out[path] = "ok"
    except OSError as exc:
        out[path] = errno.errorcode.get(exc.errno, str(exc))
print(json.dumps(out))
