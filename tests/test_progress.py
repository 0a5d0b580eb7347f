"""Progress bars redraw freely on a terminal and rarely in a log file."""

from __future__ import annotations

import io

from stemrestore.progress import LOG_INTERVAL, progress_bar


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_file_gets_a_few_lines_not_one_per_item():
    log = io.StringIO()
    for _ in progress_bar(range(10_000), file=log, desc="work"):
        pass
    text = log.getvalue()
    assert "10000/10000" in text  # the final state is always written
    assert text.count("\r") <= 3  # start, end, and at most one timed refresh on a slow machine
    assert progress_bar(range(1), file=log).mininterval == LOG_INTERVAL


def test_a_terminal_keeps_tqdms_redraw_rate():
    bar = progress_bar(range(3), file=FakeTerminal())
    assert bar.mininterval == 0.1
    bar.close()


def test_an_explicit_interval_wins():
    assert progress_bar(range(1), file=io.StringIO(), mininterval=5).mininterval == 5
