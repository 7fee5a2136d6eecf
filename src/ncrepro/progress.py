"""Progress that reads well where it lands: a live bar on a terminal, and in a job's log file (stderr
not a terminal) whole lines -- no carriage returns -- at most every ``log_every`` seconds."""

from __future__ import annotations

import sys

from tqdm import tqdm


class _Lines:
    """A stream for tqdm that turns each redraw into one line of a log."""

    def __init__(self, stream):
        self.stream = stream
        self.last = ""

    def write(self, text: str) -> None:
        text = text.replace("\r", "").strip()
        if text and text != self.last:  # tqdm redraws its last state on close
            self.stream.write(text + "\n")
            self.last = text

    def flush(self) -> None:
        self.stream.flush()


def progress(iterable=None, *, desc: str, log_every: float = 60.0, **kwargs) -> tqdm:
    """``tqdm(iterable, desc=desc, **kwargs)`` on stderr: a bar on a terminal; in a log, a line per
    update at most every ``log_every`` seconds (0: every update, e.g. one line per epoch)."""
    if sys.stderr.isatty():
        return tqdm(iterable, desc=desc, file=sys.stderr, **kwargs)
    # miniters=1: the count is checked each iteration, so tqdm's monitor thread (which redraws a stalled
    # bar with its last synced count) never writes a stale line between two updates
    kwargs.update(mininterval=log_every, miniters=1, ascii=True, dynamic_ncols=False, ncols=100)
    return tqdm(iterable, desc=desc, file=_Lines(sys.stderr), **kwargs)
