/**
 * Motion-to-photon, measured on the viewer's own clock (docs/protocol.md,
 * "Measuring with it").
 *
 * Remember `t` for every input sample sent (seq N). When a frame is displayed whose
 * applied `seq` is ≥ N for the first time, the sample waited `display_time − t`: from
 * the moment the input left the viewer to the moment its effect was on screen. No clock
 * synchronisation with the server is needed. Pure, no DOM.
 */

/**
 * The q-quantile (0–1) of a list, nearest-rank on a sorted copy.
 * @param {number[]} values
 * @param {number} q
 * @returns {number | null}
 */
export function quantile(values, q) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

export class MotionToPhoton {
  /**
   * @param {{windowMs?: number, maxPending?: number}} [options]
   *   windowMs: how much recent history the summary covers (by display time);
   *   maxPending: inputs remembered while waiting for a frame (a stalled stream must
   *   not grow memory).
   */
  constructor({ windowMs = 3000, maxPending = 1024 } = {}) {
    this.windowMs = windowMs;
    this.maxPending = maxPending;
    /** @type {{seq: number, t: number}[]} inputs sent and not yet seen on screen, by seq */
    this.pending = [];
    /** @type {{at: number, ms: number}[]} measured samples, oldest first */
    this.samples = [];
    /** @type {number | null} */
    this.last = null;
  }

  /**
   * @param {number} seq
   * @param {number} t the `t` sent with it (performance.now() ms)
   */
  sent(seq, t) {
    this.pending.push({ seq, t });
    if (this.pending.length > this.maxPending) this.pending.splice(0, this.pending.length - this.maxPending);
  }

  /**
   * A frame was displayed; `frameSeq` is the last input it applied.
   * @param {number | null | undefined} frameSeq
   * @param {number} displayTime performance.now() ms at which it was (or will be) shown
   * @returns {number[]} the latencies (ms) this frame completed, oldest input first
   */
  displayed(frameSeq, displayTime) {
    if (frameSeq === null || frameSeq === undefined) return [];
    let n = 0;
    while (n < this.pending.length && this.pending[n].seq <= frameSeq) n++;
    if (n === 0) return [];
    const done = this.pending.splice(0, n).map((p) => Math.max(0, displayTime - p.t));
    for (const latency of done) this.samples.push({ at: displayTime, ms: latency });
    this.last = done[done.length - 1];
    const horizon = displayTime - this.windowMs;
    while (this.samples.length && this.samples[0].at < horizon) this.samples.shift();
    return done;
  }

  /**
   * @param {number} [now] performance.now() ms; samples older than the window are left out
   * @returns {{p50: number, p95: number, count: number} | null} over the recent window;
   *   null when nothing was measured recently (no input, or no frame showed it yet)
   */
  summary(now = Number.POSITIVE_INFINITY) {
    const recent = this.samples.filter((s) => now - s.at <= this.windowMs);
    if (recent.length === 0) return null;
    const values = recent.map((s) => s.ms);
    return { p50: /** @type {number} */ (quantile(values, 0.5)), p95: /** @type {number} */ (quantile(values, 0.95)), count: values.length };
  }
}
