"""Progress bars: tqdm on a terminal; a line every 30 s when stderr is a log file.

Redrawing a bar dozens of times a second is right on a terminal and wrong in a
``nohup`` log, where every redraw is kept; long jobs (training, evaluation, test sets)
are mostly run the second way.
"""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm

#: Seconds between updates of a bar written to something that is not a terminal.
LOG_INTERVAL = 30.0


def progress_bar(iterable: Any = None, **kwargs: Any) -> tqdm:
    """A tqdm bar on stderr; throttled when stderr is not a terminal."""
    kwargs.setdefault("file", sys.stderr)
    stream = kwargs["file"]
    if not (hasattr(stream, "isatty") and stream.isatty()):
        kwargs.setdefault("mininterval", LOG_INTERVAL)
        kwargs.setdefault("maxinterval", max(LOG_INTERVAL, kwargs["mininterval"]))
    return tqdm(iterable, **kwargs)
