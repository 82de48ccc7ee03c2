"""`make demo`: bring the local stack up in the foreground, show how to reach it, and tear it
down cleanly on Ctrl-C.

The operator does not exist yet (issue 5); once it does, this starts it with its own
ServiceAccount, applies examples/, and prints the Secrets it synced.
"""

from __future__ import annotations

import signal
import sys
import time
from types import FrameType

from tests.testbed import paths, stack
from tests.testbed.__main__ import describe
from tests.testbed.procs import TestbedError


def _say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # `make` forwards SIGTERM as well as SIGINT; both must end in the same clean teardown.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    state_dir = paths.DEFAULT_STATE_DIR
    try:
        started = time.monotonic()
        _say("demo: starting the local stack (Kubernetes + KWOK, OpenBao, moto, Git)...")
        testbed = stack.up(state_dir, log=_say)
        _say(f"demo: stack up in {time.monotonic() - started:.1f}s")
        _say(describe(testbed, stack.env_path(state_dir)))
        _say("demo: the operator arrives with issue 5; press Ctrl-C to stop the stack.")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        _say("\ndemo: stopping...")
    except TestbedError as exc:
        _say(f"demo: {exc}")
        return 1
    finally:
        stopped = stack.down(state_dir)
        if stopped:
            _say(f"demo: stopped {', '.join(stopped)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
