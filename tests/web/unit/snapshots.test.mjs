/**
 * Which scenario snapshot the console keeps (clients/web/js/snapshots.js): a lower
 * `seq` is older, and nothing un-ends an ended scenario.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { isOvertaken } from "../../../clients/web/js/snapshots.js";

/** @param {number | undefined} seq @param {string | null} [outcome] */
const snap = (seq, outcome = null) => ({
  scenario: "s", title: "S", started: true, paused: false, t: 1, outcome, message: null, fired: [], caption: null, seq,
});

describe("scenario snapshots", () => {
  it("shows the first snapshot, and any later one that is not older", () => {
    assert.equal(isOvertaken(snap(3), null), false);
    assert.equal(isOvertaken(snap(4), snap(3)), false);
    assert.equal(isOvertaken(snap(3), snap(3)), false, "the same entries, a later reading");
  });

  it("drops a snapshot older than the one shown", () => {
    assert.equal(isOvertaken(snap(2), snap(3)), true);
  });

  it("never brings an ended scenario back, numbered or not", () => {
    assert.equal(isOvertaken(snap(9), snap(5, "partial")), true);
    assert.equal(isOvertaken(snap(undefined), snap(undefined, "partial")), true);
    assert.equal(isOvertaken(snap(6, "partial"), snap(5, "partial")), false);
  });

  it("compares numbers only when both have one (an older streamer sends none)", () => {
    assert.equal(isOvertaken(snap(undefined), snap(3)), false);
    assert.equal(isOvertaken(snap(2), snap(undefined)), false);
  });
});
