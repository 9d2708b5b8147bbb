/**
 * Connection figures from WebRTC statistics (clients/web/js/stats.js), fed with stats
 * objects shaped as Chromium reports them.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { figures, snapshot } from "../../../clients/web/js/stats.js";

/** @param {number} at @param {object} inbound */
function report(at, inbound) {
  return [
    { id: "T1", type: "transport", selectedCandidatePairId: "CP1" },
    { id: "CP1", type: "candidate-pair", remoteCandidateId: "RC1", currentRoundTripTime: 0.012, nominated: true, state: "succeeded" },
    { id: "RC1", type: "remote-candidate", candidateType: "host" },
    { id: "C1", type: "codec", mimeType: "video/H264" },
    { id: "IT1", type: "inbound-rtp", kind: "video", codecId: "C1", timestamp: at, frameWidth: 1280, frameHeight: 720, ...inbound },
  ];
}

describe("stats", () => {
  it("is empty before any video arrives", () => {
    assert.equal(snapshot([{ id: "T1", type: "transport" }]), null);
  });

  it("reads codec, size, round-trip time and path from a report", () => {
    const snap = /** @type {any} */ (snapshot(report(1000, { framesDecoded: 10 })));
    assert.equal(snap.codec, "video/H264");
    assert.deepEqual([snap.frameWidth, snap.frameHeight], [1280, 720]);
    assert.equal(snap.rttMs, 12);
    assert.equal(snap.path, "direct");
  });

  it("turns two snapshots into rates", () => {
    const a = snapshot(report(1000, { framesDecoded: 100, bytesReceived: 1_000_000, packetsReceived: 1000, packetsLost: 0, jitterBufferDelay: 1.0, jitterBufferEmittedCount: 100, totalDecodeTime: 0.2 }));
    const b = /** @type {any} */ (snapshot(report(2000, { framesDecoded: 160, bytesReceived: 2_000_000, packetsReceived: 1990, packetsLost: 10, jitterBufferDelay: 1.6, jitterBufferEmittedCount: 160, totalDecodeTime: 0.32 })));
    const f = figures(a, b);
    assert.equal(f.fps, 60);
    assert.equal(f.bitrateKbps, 8000);
    assert.equal(f.lossPct, 1);
    assert.ok(Math.abs(/** @type {number} */ (f.jitterBufferMs) - 10) < 1e-9);
    assert.ok(Math.abs(/** @type {number} */ (f.decodeMs) - 2) < 1e-9);
  });

  it("reports no rate across a reconnection, when counters start again", () => {
    const a = snapshot(report(1000, { framesDecoded: 500 }));
    const b = /** @type {any} */ (snapshot(report(2000, { framesDecoded: 20 })));
    assert.equal(figures(a, b).fps, 0);
  });
});
