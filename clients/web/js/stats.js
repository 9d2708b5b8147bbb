/**
 * Connection figures from WebRTC statistics (W3C "Identifiers for WebRTC's Statistics
 * API"): frame rate, bitrate, round-trip time, packet loss, jitter-buffer and decode
 * delay, for the stats overlay and the tests.
 *
 * Rates come from the difference of two cumulative snapshots. We count decoded frames
 * from `getStats`, not from requestVideoFrameCallback, which under-reports in headless
 * Chromium (FIELD-NOTES trap 13). Pure: takes stats objects, returns numbers.
 */

/**
 * @typedef {object} Snapshot cumulative counters of the inbound video stream at one time
 * @property {number} at ms (the stats timestamp)
 * @property {number} framesDecoded
 * @property {number} framesDropped
 * @property {number} bytesReceived
 * @property {number} packetsReceived
 * @property {number} packetsLost
 * @property {number} jitterBufferDelay seconds, summed over emitted frames
 * @property {number} jitterBufferEmittedCount
 * @property {number} totalDecodeTime seconds
 * @property {number} frameWidth
 * @property {number} frameHeight
 * @property {string | null} codec e.g. "video/H264"
 * @property {number | null} rttMs current round-trip time of the selected candidate pair
 * @property {string | null} path "direct" or "relay" (through a TURN server)
 */

/**
 * @typedef {object} Figures
 * @property {number} fps decoded frames per second
 * @property {number} bitrateKbps
 * @property {number} lossPct packets lost / expected over the interval, percent
 * @property {number | null} rttMs
 * @property {number | null} jitterBufferMs average delay a frame spent in the jitter buffer
 * @property {number | null} decodeMs average decode time per frame
 * @property {number} width
 * @property {number} height
 * @property {string | null} codec
 * @property {number} framesDecoded
 * @property {number} framesDropped
 * @property {string | null} path
 */

/**
 * The cumulative counters of the (first) inbound video stream, or null before media.
 * @param {Iterable<any>} stats RTCStatsReport.values()
 * @returns {Snapshot | null}
 */
export function snapshot(stats) {
  const all = [...stats];
  const byId = new Map(all.map((s) => [s.id, s]));
  const inbound = all.find((s) => s.type === "inbound-rtp" && s.kind === "video");
  if (!inbound) return null;
  const transport = all.find((s) => s.type === "transport" && s.selectedCandidatePairId);
  const pair = transport
    ? byId.get(transport.selectedCandidatePairId)
    : all.find((s) => s.type === "candidate-pair" && s.nominated && s.state === "succeeded");
  const remote = pair ? byId.get(pair.remoteCandidateId) : null;
  const codec = inbound.codecId ? byId.get(inbound.codecId) : null;
  const n = (/** @type {any} */ v) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  return {
    at: n(inbound.timestamp),
    framesDecoded: n(inbound.framesDecoded),
    framesDropped: n(inbound.framesDropped),
    bytesReceived: n(inbound.bytesReceived),
    packetsReceived: n(inbound.packetsReceived),
    packetsLost: n(inbound.packetsLost),
    jitterBufferDelay: n(inbound.jitterBufferDelay),
    jitterBufferEmittedCount: n(inbound.jitterBufferEmittedCount),
    totalDecodeTime: n(inbound.totalDecodeTime),
    frameWidth: n(inbound.frameWidth),
    frameHeight: n(inbound.frameHeight),
    codec: codec && codec.mimeType ? codec.mimeType : null,
    rttMs: pair && typeof pair.currentRoundTripTime === "number" ? pair.currentRoundTripTime * 1000 : null,
    path: remote ? (remote.candidateType === "relay" ? "relay" : "direct") : null,
  };
}

/**
 * Rates between two snapshots of the same stream.
 * @param {Snapshot | null} previous
 * @param {Snapshot} current
 * @returns {Figures}
 */
export function figures(previous, current) {
  const base = previous && previous.at < current.at && previous.framesDecoded <= current.framesDecoded ? previous : null;
  const dt = base ? (current.at - base.at) / 1000 : 0;
  const d = (/** @type {keyof Snapshot} */ key) => (base ? /** @type {number} */ (current[key]) - /** @type {number} */ (base[key]) : 0);
  const received = d("packetsReceived");
  const lost = Math.max(0, d("packetsLost"));
  const emitted = d("jitterBufferEmittedCount");
  const decoded = d("framesDecoded");
  return {
    fps: dt > 0 ? decoded / dt : 0,
    bitrateKbps: dt > 0 ? (d("bytesReceived") * 8) / dt / 1000 : 0,
    lossPct: received + lost > 0 ? (100 * lost) / (received + lost) : 0,
    rttMs: current.rttMs,
    jitterBufferMs: emitted > 0 ? (1000 * d("jitterBufferDelay")) / emitted : null,
    decodeMs: decoded > 0 ? (1000 * d("totalDecodeTime")) / decoded : null,
    width: current.frameWidth,
    height: current.frameHeight,
    codec: current.codec,
    framesDecoded: current.framesDecoded,
    framesDropped: current.framesDropped,
    path: current.path,
  };
}
