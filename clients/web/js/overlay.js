/**
 * The stats overlay: what a trainer or an IT technician needs to judge the stream at a
 * glance: frame rate, bitrate, round-trip time, packet loss, and motion-to-photon (the
 * time from an input leaving this device to its effect being on screen).
 *
 * Figures are coloured against what immersive training needs (motion-to-photon under
 * ~50 ms is comfortable, over ~100 ms is not; loss over 2 % shows as artefacts).
 */

/** @typedef {import("./stats.js").Figures} Figures */

/**
 * @param {number | null | undefined} value
 * @param {number} good at or below: good
 * @param {number} fair at or below: fair, above: poor
 */
function grade(value, good, fair) {
  if (value === null || value === undefined) return "";
  return value <= good ? "good" : value <= fair ? "fair" : "poor";
}

/** @param {number | null | undefined} v @param {number} [digits] */
const fixed = (v, digits = 0) => (v === null || v === undefined || !Number.isFinite(v) ? "—" : v.toFixed(digits));

export class StatsOverlay {
  /** @param {HTMLElement} root an element holding <dd data-stat="…"> cells */
  constructor(root) {
    this.root = root;
  }

  get visible() {
    return !this.root.hidden;
  }

  /** @param {boolean} [on] */
  toggle(on = !this.visible) {
    this.root.hidden = !on;
    return on;
  }

  /**
   * @param {{
   *   figures: Figures | null,
   *   m2p: {p50: number, p95: number, count: number} | null,
   *   lastM2p: number | null,
   *   server: {render_ms: number, convert_ms: number, encode_ms: number} | null,
   *   targetFps: number | null,
   *   reprojectionDeg?: number | null,
   * }} data
   */
  update(data) {
    const f = data.figures;
    const target = data.targetFps || 60;
    this.set("fps", f ? fixed(f.fps) : "—", f ? grade(target - f.fps, target * 0.1, target * 0.25) : "");
    this.set("bitrate", f ? `${fixed(f.bitrateKbps / 1000, 1)} Mbit/s` : "—");
    this.set("rtt", f && f.rttMs !== null ? `${fixed(f.rttMs)} ms` : "—", grade(f?.rttMs, 30, 80));
    this.set("loss", f ? `${fixed(f.lossPct, 1)} %` : "—", f ? grade(f.lossPct, 0.5, 2) : "");
    if (data.m2p) {
      this.set("m2p", `${fixed(data.m2p.p50)} ms`, grade(data.m2p.p50, 50, 100));
      this.set("m2p95", `${fixed(data.m2p.p95)} ms`, grade(data.m2p.p95, 70, 130));
    } else {
      this.set("m2p", data.lastM2p !== null ? `${fixed(data.lastM2p)} ms` : "move to measure", data.lastM2p !== null ? grade(data.lastM2p, 50, 100) : "");
      this.set("m2p95", "—");
    }
    this.set("buffer", f && f.jitterBufferMs !== null ? `${fixed(f.jitterBufferMs)} ms` : "—");
    this.set("decode", f && f.decodeMs !== null ? `${fixed(f.decodeMs, 1)} ms` : "—");
    const s = data.server;
    this.set("server", s ? `${fixed(s.render_ms + s.convert_ms + s.encode_ms, 1)} ms` : "—");
    this.set("video", f && f.width ? `${f.width}×${f.height} ${(f.codec || "").replace("video/", "")}` : "—");
    this.set("path", f && f.path ? (f.path === "relay" ? "via relay (TURN)" : "direct") : "—");
    if (data.reprojectionDeg !== undefined && data.reprojectionDeg !== null) this.set("reprojection", `${fixed(data.reprojectionDeg, 1)}°`);
  }

  /**
   * @param {string} name
   * @param {string} text
   * @param {string} [quality] good | fair | poor
   */
  set(name, text, quality = "") {
    const cell = this.root.querySelector(`[data-stat="${name}"]`);
    if (!cell) return;
    cell.textContent = text;
    cell.className = quality;
  }
}
