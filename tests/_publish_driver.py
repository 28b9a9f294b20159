"""Run ``sizecheck`` in a subprocess with a pause at one step, for the interruption tests.

Usage: ``python _publish_driver.py READY FUNCTION -- ARGS...``. ``FUNCTION`` is a function of
``sizecheck.report`` (``summary_dict``: the tables are written, the summary is next;
``_render_cluster``: drawing the charts; ``wait``: chart workers busy, one task done); when the
run reaches it, the driver writes its process id to ``READY`` and sleeps, so the test can
interrupt it there.
"""

from __future__ import annotations

import concurrent.futures
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _paused(ready: Path, original: Callable[..., Any]) -> Callable[..., Any]:
    def paused(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        ready.write_text(str(os.getpid()), encoding="utf-8")
        time.sleep(120)
        return result

    return paused


def main() -> None:
    import signal

    # as in a terminal: Ctrl-C raises KeyboardInterrupt (a test runner's worker may have
    # started this process with SIGINT ignored, which a child inherits)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from sizecheck import report
    from sizecheck.cli import main as cli_main

    ready, where, separator, *args = sys.argv[1:]
    assert separator == "--"
    module: Any = concurrent.futures if where == "wait" else report
    setattr(module, where, _paused(Path(ready), getattr(module, where)))
    cli_main(args)


if __name__ == "__main__":
    main()
