"""The log tail both backends put into a failure detail: the last lines only, the
value of every kind of secret-bearing field redacted (as Python's repr, JSON and
`key=value` write them), pydantic's documentation pointer dropped, the length capped;
and a log file that cannot be read makes an empty tail, never an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.backends.log_tail import file_log_tail, log_tail_detail, read_file_end, redact


@pytest.mark.parametrize(
    ("line", "secret", "kept"),
    [
        ("input_value={'jwt_secret': 'S3CR3T-ab', 'width': 322}", "S3CR3T-ab", "'width': 322"),
        ('env: {"token": "eyJhbGciOi", "fps": 60}', "eyJhbGciOi", '"fps": 60'),
        ("turn secret='hunter2' realm='ixs'", "hunter2", "realm='ixs'"),
        ("IXS_STREAMER_JWT_SECRET key=\"k-123\" loaded", "k-123", "loaded"),
        ("{'api_key': 'abc987', 'host': 'h'}", "abc987", "'host': 'h'"),
        ("ice: {'username': 'u1', 'credential': 'pa55'}", "pa55", "'username': 'u1'"),
        ('[{"urls":["turn:t"],"username":"9:s","credential":"q+/Z="}]', "q+/Z=", '"9:s"'),
    ],
)  # fmt: skip
def test_each_kind_of_secret_field_is_redacted_and_its_neighbours_kept(
    line: str, secret: str, kept: str
) -> None:
    redacted = redact(line)
    assert secret not in redacted
    assert "<redacted>" in redacted
    assert kept in redacted


def test_a_line_without_a_secret_field_is_left_as_it_is() -> None:
    line = "scene /scenes/a.glb not found (width 2560, fps 72)"
    assert redact(line) == line


def test_the_detail_is_the_last_six_lines_joined_and_named_by_its_source() -> None:
    text = "\n".join(f"line {i}" for i in range(10)) + "\n\n"
    assert log_tail_detail("pod-1", text) == (
        " (log pod-1: line 4 | line 5 | line 6 | line 7 | line 8 | line 9)"
    )


def test_pydantics_documentation_pointer_and_blank_lines_are_dropped() -> None:
    text = (
        "1 validation error for StreamerSettings\n"
        "   \n"
        "  For further information visit https://errors.pydantic.dev/2.11/v/int_parsing\n"
    )
    assert log_tail_detail("st", text) == " (log st: 1 validation error for StreamerSettings)"


def test_a_long_tail_keeps_its_end_within_the_limit() -> None:
    detail = log_tail_detail("st", "x" * 500 + "THE END", limit=20)
    assert detail == f" (log st: {'x' * 13}THE END)"


def test_a_secret_cut_by_the_limit_is_redacted_before_the_cut() -> None:
    detail = log_tail_detail("st", "{'token': 'abcdefghijklmnop'}", limit=12)
    assert "ijklmnop" not in detail
    assert detail == " (log st: <redacted>'})"


def test_an_empty_log_gives_no_detail() -> None:
    assert log_tail_detail("st", " \n\n") == ""


def test_a_log_file_tail_is_read_from_its_end_and_redacted(tmp_path: Path) -> None:
    log = tmp_path / "st-1.log"
    log.write_text(
        "early line that falls outside the window\n" + "." * 5000 + "\n"
        "invalid settings: input_value={'jwt_secret': 'S3CR3T-abcdef', 'width': 322}\n"
        'env: {"token": "eyJhbGciOi"}\n'
    )
    assert "early line" not in read_file_end(log)
    tail = file_log_tail(log)
    assert tail.startswith(" (log st-1.log: ")
    assert "S3CR3T" not in tail
    assert "eyJhbGciOi" not in tail
    assert "'width': 322" in tail


def test_a_missing_log_file_gives_no_detail(tmp_path: Path) -> None:
    assert file_log_tail(tmp_path / "never-written.log") == ""
