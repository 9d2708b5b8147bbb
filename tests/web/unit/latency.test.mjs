/**
 * Motion-to-photon on the viewer's clock (clients/web/js/latency.js), as
 * docs/protocol.md defines it: a frame that applied seq N completes every input ≤ N.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { MotionToPhoton, quantile } from "../../../clients/web/js/latency.js";

describe("motion-to-photon", () => {
  it("measures each input from when it was sent to the first frame that showed it", () => {
    const m2p = new MotionToPhoton();
    m2p.sent(1, 0);
    m2p.sent(2, 10);
    m2p.sent(3, 20);
    assert.deepEqual(m2p.displayed(2, 50), [50, 40]);
    assert.deepEqual(m2p.displayed(2, 66), [], "a later frame with the same seq adds nothing");
    assert.deepEqual(m2p.displayed(3, 70), [50]);
    assert.equal(m2p.last, 50);
  });

  it("ignores frames rendered before any input was applied", () => {
    const m2p = new MotionToPhoton();
    m2p.sent(1, 0);
    assert.deepEqual(m2p.displayed(null, 40), []);
  });

  it("summarises the recent window only", () => {
    const m2p = new MotionToPhoton({ windowMs: 1000 });
    m2p.sent(1, 0);
    m2p.displayed(1, 100);
    for (let seq = 2; seq <= 11; seq++) {
      m2p.sent(seq, 2000 + seq);
      m2p.displayed(seq, 2000 + seq + 30);
    }
    const summary = m2p.summary(2100);
    assert.deepEqual(summary, { p50: 30, p95: 30, count: 10 });
    assert.equal(m2p.summary(9000), null, "nothing measured in the last second");
  });

  it("does not grow without bound while no frame arrives", () => {
    const m2p = new MotionToPhoton({ maxPending: 10 });
    for (let seq = 1; seq <= 100; seq++) m2p.sent(seq, seq);
    assert.equal(m2p.pending.length, 10);
  });

  it("takes nearest-rank quantiles", () => {
    assert.equal(quantile([], 0.5), null);
    assert.equal(quantile([5, 1, 3], 0.5), 3);
    assert.equal(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95), 10);
  });
});
