/**
 * Matching displayed frames to their metadata (clients/web/js/frametrack.js): records
 * are found by RTP timestamp, history stays bounded, and the render orientation comes
 * from the pose we sent for the applied `seq`, not from the navigation-turned camera.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { FrameLedger, PoseLog, renderHeadOrientation } from "../../../clients/web/js/frametrack.js";

/** @param {number} id @param {number | null} rtp @param {number | null} seq */
const frame = (id, rtp, seq, q = [0, 0, 0, 1]) => ({
  v: 1, type: /** @type {const} */ ("frame"), id, rtp, seq, input_t: null, keyframe: false,
  pose: { p: [0, 1.6, 0], q }, server: { render_ms: 1, convert_ms: 1, encode_ms: 1, done_at_ms: 0 },
});

describe("frame tracking", () => {
  it("finds a frame's record by its RTP timestamp, as unsigned 32-bit", () => {
    const ledger = new FrameLedger();
    ledger.add(frame(2, 4294967000, 5));
    ledger.add(frame(1, null, null)); // the very first frame has no RTP timestamp
    assert.equal(ledger.lookup(4294967000)?.id, 2);
    assert.equal(ledger.lookup(-296)?.id, 2, "the same 32 bits read as a signed number");
    assert.equal(ledger.lookup(123), null);
    assert.equal(ledger.latest?.id, 2);
  });

  it("forgets the oldest records beyond its capacity", () => {
    const ledger = new FrameLedger(3);
    for (let i = 1; i <= 5; i++) ledger.add(frame(i, i * 1500, null));
    assert.equal(ledger.lookup(1500), null);
    assert.equal(ledger.lookup(7500)?.id, 5);
  });

  it("takes the render orientation from the pose sent with the applied seq", () => {
    const poses = new PoseLog();
    poses.add(41, [0, 0.1, 0, 0.995]);
    // The camera was also turned by navigation: frame.pose differs from the head pose.
    const f = frame(9, 100, 41, [0, 0.7, 0, 0.714]);
    assert.deepEqual(renderHeadOrientation(f, poses), [0, 0.1, 0, 0.995]);
  });

  it("falls back to the frame's camera pose when the sample is no longer known", () => {
    const f = frame(9, 100, 3, [0, 0.7, 0, 0.714]);
    assert.deepEqual(renderHeadOrientation(f, new PoseLog()), [0, 0.7, 0, 0.714]);
  });
});
