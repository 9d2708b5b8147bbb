"""The streamer's Prometheus metrics, on a registry of its own.

Names follow `namespace_subsystem_name_unit`; counters end in `_total`; times
are in seconds. No label carries a per-session or per-viewer value: one
process serves one session, so the session is the scrape target itself.
Encoder metrics carry the `codec` ("h264" | "vp8"): viewers of different
codecs cost one encoder each, and `frames_encoded_total{codec}` next to
`frames_rendered_total` shows that frames are encoded once per codec, not per
viewer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from streamer.cpu import StageCpu

# Frame-stage buckets: sub-millisecond to two frame intervals at 30 fps.
_STAGE_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.033, 0.05, 0.1)


def _ns(name: str) -> str:
    return f"ixstream_streamer_{name}"


@dataclass
class StreamerMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    cpu: StageCpu = field(default_factory=StageCpu)

    def __post_init__(self) -> None:
        r = self.registry
        # process_cpu_seconds_total and friends: the total the stages add up to.
        ProcessCollector(registry=r)
        r.register(StageCpuCollector(self.cpu))
        self.frames_rendered = Counter(_ns("frames_rendered_total"), "Frames rendered.", registry=r)
        self.frames_skipped = Counter(
            _ns("frames_skipped_total"),
            "Frame ticks with nothing new to show: neither rendered nor encoded.",
            registry=r,
        )
        self.frames_repeated = Counter(
            _ns("frames_repeated_total"),
            "Frames encoded again from the last picture without rendering it "
            "(a still scene's keep-alive, a keyframe for a new viewer).",
            registry=r,
        )
        self.frames_encoded = Counter(
            _ns("frames_encoded_total"), "Frames encoded, by codec.", ["codec"], registry=r
        )
        self.encoders_open = Gauge(
            _ns("encoders_open"),
            "Open encoders, by codec (one per codec in use, whatever the viewer count).",
            ["codec"],
            registry=r,
        )
        self.frames_sent = Counter(
            _ns("frames_sent_total"), "Encoded frames handed to a viewer's RTP sender.", registry=r
        )
        self.frames_dropped = Counter(
            _ns("frames_dropped_total"),
            "Encoded frames a viewer could not take, by reason.",
            ["reason"],
            registry=r,
        )
        self.bytes_sent = Counter(
            _ns("video_bytes_sent_total"), "Encoded video bytes handed to senders.", registry=r
        )
        self.render_seconds = Histogram(
            _ns("render_seconds"), "Scene draw time per frame.", buckets=_STAGE_BUCKETS, registry=r
        )
        self.convert_seconds = Histogram(
            _ns("convert_seconds"),
            "RGB to I420 conversion and readback per frame.",
            buckets=_STAGE_BUCKETS,
            registry=r,
        )
        self.encode_seconds = Histogram(
            _ns("encode_seconds"),
            "Encode time per frame, by codec.",
            ["codec"],
            buckets=_STAGE_BUCKETS,
            registry=r,
        )
        self.keyframes_forced = Counter(
            _ns("keyframes_forced_total"),
            "Keyframes forced, by reason (viewer_joined, pli, resync, recording) and codec.",
            ["reason", "codec"],
            registry=r,
        )
        self.viewers = Gauge(_ns("viewers"), "Connected viewers, by role.", ["role"], registry=r)
        self.messages_received = Counter(
            _ns("messages_received_total"),
            "Data-channel messages received, by channel.",
            ["channel"],
            registry=r,
        )
        self.messages_dropped = Counter(
            _ns("messages_dropped_total"),
            "Data-channel messages dropped, by channel and reason.",
            ["channel", "reason"],
            registry=r,
        )
        self.whep_requests = Counter(
            _ns("whep_requests_total"), "WHEP requests, by outcome.", ["outcome"], registry=r
        )
        self.viewers_released = Counter(
            _ns("viewers_released_total"),
            "Viewers released, by reason (deleted, closed, failed, silent, never_connected).",
            ["reason"],
            registry=r,
        )
        self.bitrate_target = Gauge(
            _ns("bitrate_target_bps"),
            "Encoder bitrate target in bits per second, by codec.",
            ["codec"],
            registry=r,
        )


class StageCpuCollector(Collector):
    """Exports `StageCpu` at scrape time: reading the threads' clocks costs nothing per frame."""

    def __init__(self, cpu: StageCpu) -> None:
        self._cpu = cpu

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily(
            _ns("stage_cpu_seconds"),
            "CPU time by stage (render, readback, convert, encode, pipeline, send, "
            "data_channels, event_loop, other_threads, unattributed); the stages sum to "
            "the process's CPU time (streamer/cpu.py).",
            labels=["stage"],
        )
        for stage, seconds in self._cpu.snapshot().items():
            family.add_metric([stage], seconds)
        yield family
