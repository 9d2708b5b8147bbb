"""Session recording: the encoder's packets muxed into a file, never re-encoded."""

from streamer.record.recorder import Recorder, RecorderError, RecordingSummary

__all__ = ["Recorder", "RecorderError", "RecordingSummary"]
