"""Where finished session recordings are kept: `<recordings_dir>/<session_id>.mp4`
(H.264) or `.webm` (VP8), as the streamer muxed them (C3: never re-encoded).

The orchestrator fetches a recording from its streamer when the session ends, before
the streamer is stopped (`StreamerControl.download_recording`); this module only
knows the names and media types.
"""

from __future__ import annotations

from pathlib import Path

import structlog

from orchestrator.errors import ArtifactNotFoundError
from orchestrator.scenarios.aar import SESSION_ID

log = structlog.get_logger("orchestrator.scenarios.recordings")

MEDIA_TYPES = {".mp4": "video/mp4", ".webm": "video/webm"}


class RecordingStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def stem(self, session_id: str) -> Path:
        """The file's path without its suffix (the media type decides it)."""
        if not SESSION_ID.match(session_id):
            raise ArtifactNotFoundError(f"{session_id!r} is not a session id")
        return self.directory / session_id

    def existing(self, session_id: str) -> tuple[Path, str]:
        """The session's recording and its media type; `ArtifactNotFoundError` if none."""
        stem = self.stem(session_id)
        for suffix, media_type in MEDIA_TYPES.items():
            path = stem.with_name(stem.name + suffix)
            if path.is_file():
                return path, media_type
        raise ArtifactNotFoundError(
            f"session {session_id} has no recording (it was not created with "
            "`record: true`, or the recording could not be fetched)"
        )

    def sweep(self, now: float, max_age_s: float) -> list[Path]:
        """Delete recordings (and fetches torn by a crash, `*.part`) last written more than
        `max_age_s` before `now`: video of trainees is personal data, kept no longer
        than the site decided."""
        deleted: list[Path] = []
        if not self.directory.is_dir():
            return deleted
        for path in sorted(self.directory.iterdir()):
            if path.suffix not in {*MEDIA_TYPES, ".part"} or not path.is_file():
                continue
            try:
                if path.stat().st_mtime < now - max_age_s:
                    path.unlink()
                    deleted.append(path)
            except FileNotFoundError:
                continue
        if deleted:
            log.info("recordings.swept", deleted=[p.name for p in deleted], max_age_s=max_age_s)
        return deleted
