"""Structured logging: structlog rendering JSON lines (or a console format in dev).

Called once by the process entry points (`ixstream up`, `create_app_from_env`), never at
import time, so tests and embedding applications keep their own configuration.
"""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(*, json_lines: bool = True, level: int = logging.INFO) -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
