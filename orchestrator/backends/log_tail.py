"""A streamer's last log lines, secrets redacted, as the end of a failure detail.

When a streamer dies or never gets ready, its last words are what a person can act on
(a bad scene path, a refused setting). Both backends append them to the failure
detail: the local one from the streamer's log file, the Kubernetes one from the
container log. Failure details reach API responses and the audit log, so anything
that looks like a secret-bearing field is redacted first: a settings validation error
(pydantic's `input_value=...`) or an environment dump echoes its input, keys included.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

#: A field that may carry a secret, quoted as Python's repr or JSON writes it:
#: `'jwt_secret': '...'`, `"token": "..."`, `key='...'`. The value is redacted.
SECRET_FIELD = re.compile(
    r"""(['"]?(?:jwt_secret|secret|key|token|credential)['"]?\s*[:=]\s*)(['"])[^'"]*\2"""
)
REDACTED = "<redacted>"
#: pydantic's pointer to its documentation: noise in a one-line detail.
_NOISE_PREFIX = "For further information"
LINES = 6
#: How much of a log file is read: the last lines are all that is wanted.
FILE_WINDOW_BYTES = 4096


def redact(text: str) -> str:
    """`text` with the value of every secret-looking field replaced by `<redacted>`."""
    return SECRET_FIELD.sub(rf"\1\2{REDACTED}\2", text)


def log_tail_detail(source: str, text: str, limit: int = 600) -> str:
    """The last non-empty lines of `text`, redacted, joined with ` | ` and cut to its
    last `limit` characters, as ` (log SOURCE: ...)`; empty when there is nothing."""
    lines = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith(_NOISE_PREFIX)
    ][-LINES:]
    tail = redact(" | ".join(lines))[-limit:]
    return f" (log {source}: {tail})" if tail else ""


def read_file_end(path: Path, window: int = FILE_WINDOW_BYTES) -> str:
    """The last `window` bytes of a file, decoded leniently; empty if it cannot be read
    (a failure detail must never fail for want of its log)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - window))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def file_log_tail(path: Path, limit: int = 1200) -> str:
    """`log_tail_detail` for a log file, named by its file name."""
    return log_tail_detail(path.name, read_file_end(path), limit)
