"""Where the log goes, and what it must never hold: the user's code.

Owns the logging setup of every command: the handler (stderr, or a `--log-file` created user-only,
mode 0600), the level, and a filter on pygls' records. pygls (2.1.1) puts whole message params
(document text) into some of its WARNING/ERROR records ("Failed to handle notification %r: %s")
and into exception texts; the filter keeps each such record's message template, its short
scalar arguments (ids, method names) and its traceback lines, and replaces the rest with the
argument's type name. Must not decide what the server logs elsewhere: modules log their own
records without the document text.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback

SHORT = 80  # a string argument this short and on one line (an id, a method name) is kept


def _private_log(path: str):
    """The log file, opened for appending; created user-only (0600), and made so if it was wider."""
    fd = os.open(os.path.expanduser(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
    except OSError:  # not our file: it keeps its mode
        pass
    return os.fdopen(fd, "a", encoding="utf-8", buffering=1)


def redacted_arg(value):
    """A log argument as it may be written: short scalars as they are, anything else by its type."""
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    if isinstance(value, str) and len(value) <= SHORT and "\n" not in value:
        return value
    return f"<{type(value).__name__}>"


def redact_pygls(record: logging.LogRecord) -> bool:
    """logging filter: pygls' records without message params or exception texts (always kept)."""
    if not record.name.startswith("pygls"):
        return True
    if isinstance(record.args, tuple):
        record.args = tuple(redacted_arg(a) for a in record.args)
    elif record.args:
        record.args = ()
        record.msg = str(record.msg)
    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        record.exc_text = "Traceback (most recent call last):\n" + "".join(traceback.format_tb(exc.__traceback__)) \
            + f"{type(exc).__name__} (message not logged)"
        record.exc_info = None
    return True


def setup_logging(level: str, log_file: str | None) -> None:
    handler = logging.StreamHandler(_private_log(log_file) if log_file else sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(redact_pygls)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # pygls logs every message body at INFO: that is the user's code, keep it out of logs.
    logging.getLogger("pygls").setLevel(max(logging.WARNING, root.level))
