/**
 * Reading the after-action log for a review (clients/web/js/aar.js): JSON lines in,
 * a timeline with poses summarised, the path, the scenario's zones, events placed at
 * the nearest pose, and a floor-plan frame that fits it all at one scale.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import * as aar from "../../../clients/web/js/aar.js";
import { formatClock } from "../../../clients/web/js/ui.js";

const SCENARIO = {
  start: { position: [0, 0, 2], yaw_deg: 180 },
  triggers: [
    { id: "leak-starts", when: { kind: "time_elapsed", after_s: 20 }, then: [] },
    { id: "out-north", when: { kind: "enters_zone", zone: { center: [0, 0, -11], radius_m: 1.5 } }, then: [] },
    { id: "too-close", when: { kind: "enters_zone", zone: { center: [2.5, 0, 7], radius_m: 3 } }, then: [] },
  ],
};

/** A walk north from the start at 1 m/s, 5 poses a second, with events along the way. */
function walk() {
  const lines = [{ seq: 0, t: 0, kind: "scenario_started", scenario: "gas-leak-warehouse", title: "Gas leak" }];
  let seq = 1;
  for (let i = 0; i <= 50; i++) {
    const t = i * 0.2;
    lines.push({ seq: seq++, t, kind: "pose", p: [0, 1.6, 2 - t], q: [0, 0, 0, 1] });
    if (i === 25) lines.push({ seq: seq++, t: 5.02, kind: "instructor", action: "event", event: "coworker-freezes", by: "mia" });
    if (i === 40) {
      lines.push({ seq: seq++, t: 8, kind: "trigger_fired", trigger: "leak-starts", cause: "time_elapsed" });
      lines.push({ seq: seq++, t: 8, kind: "effect", trigger: "leak-starts", do: "caption", text: "You hear a hiss.", for_s: 6 });
    }
  }
  lines.push({ seq: seq++, t: 10, kind: "scenario_ended", outcome: "success", message: "Out by the north exit.", by: "trigger:out-north" });
  return lines.map((l) => JSON.stringify(l)).join("\n") + "\n";
}

describe("after-action log", () => {
  it("parses JSON lines, skipping blank lines and counting damaged ones", () => {
    const { entries, skipped } = aar.parseLog(`${walk()}\n{"t": 1}\nnot json\n`);
    assert.equal(skipped, 2);
    assert.equal(entries[0].kind, "scenario_started");
    assert.equal(entries.filter((e) => e.kind === "pose").length, 51);
    assert.deepEqual(aar.parseLog(""), { entries: [], skipped: 0 });
  });

  it("summarises runs of poses instead of listing them, and numbers the marked events", () => {
    const rows = aar.timeline(aar.parseLog(walk()).entries);
    assert.deepEqual(rows.map((r) => r.kind), ["scenario_started", "pose", "instructor", "pose", "trigger_fired", "effect", "pose", "scenario_ended"]);
    assert.match(rows[1].details, /^26 positions over 5\.0 s, 5\.0 m walked$/);
    assert.deepEqual(rows.map((r) => r.marker), [null, null, 1, null, 2, null, null, null]);
    assert.equal(rows[2].details, "mia: fired coworker-freezes");
    assert.equal(rows[4].details, "leak-starts (time elapsed)");
    assert.equal(rows[5].details, "leak-starts: caption “You hear a hiss.”");
    assert.equal(rows[7].details, "success: Out by the north exit. (trigger:out-north)");
  });

  it("places each event at the pose nearest its time", () => {
    const entries = aar.parseLog(walk()).entries;
    const marks = aar.markers(entries, aar.startOf(SCENARIO));
    assert.deepEqual(marks.map((m) => [m.n, m.kind, m.x, Math.round(m.z * 10) / 10]), [[1, "instructor", 0, -3], [2, "trigger_fired", 0, -6]]);
    assert.equal(aar.nearestIndex([0, 1, 2, 3], 1.4), 1);
    assert.equal(aar.nearestIndex([0, 1, 2, 3], 1.6), 2);
    assert.equal(aar.nearestIndex([0, 1], 99), 1);
    assert.equal(aar.nearestIndex([], 1), -1);
    const noPoses = aar.markers(entries.filter((e) => e.kind !== "pose"), { x: 4, z: 5 });
    assert.deepEqual(noPoses.map((m) => [m.x, m.z]), [[4, 5], [4, 5]], "the start point when no pose was logged");
  });

  it("reads zones from enters_zone triggers and the start point's heading", () => {
    assert.deepEqual(aar.zonesOf(SCENARIO), [{ id: "out-north", x: 0, z: -11, r: 1.5 }, { id: "too-close", x: 2.5, z: 7, r: 3 }]);
    assert.deepEqual(aar.zonesOf(null), []);
    const start = /** @type {any} */ (aar.startOf(SCENARIO));
    assert.deepEqual([start.x, start.z], [0, 2]);
    assert.ok(Math.abs(start.dx) < 1e-9 && Math.abs(start.dz - 1) < 1e-9, "yaw 180° faces +z (down the page)");
  });

  it("sums up the run", () => {
    const s = aar.summary(aar.parseLog(walk()).entries);
    assert.equal(s.outcome, "success");
    assert.equal(s.duration, 10);
    assert.ok(Math.abs(s.distance - 10) < 1e-9);
    assert.deepEqual(s.fired, ["leak-starts"]);
    assert.equal(s.instructorActions, 1);
    assert.equal(aar.summary([]).outcome, null);
  });

  it("fits path, zones and start into the plot at one scale, with the margin", () => {
    const box = { width: 800, height: 560, left: 58, right: 16, top: 16, bottom: 50 };
    const points = aar.trail(aar.parseLog(walk()).entries).points;
    const zones = aar.zonesOf(SCENARIO);
    const frame = aar.fitFrame({ points, zones, start: { x: 0, z: 2 } }, box);
    const inside = (/** @type {number} */ x, /** @type {number} */ z) => {
      const px = frame.px(x);
      const py = frame.py(z);
      return px >= box.left && px <= box.width - box.right && py >= box.top && py <= box.height - box.bottom;
    };
    for (const z of zones) for (const [dx, dz] of [[-1, 0], [1, 0], [0, -1], [0, 1]]) assert.ok(inside(z.x + dx * (z.r + 0.9), z.z + dz * (z.r + 0.9)), z.id);
    for (const p of points) assert.ok(inside(p.x, p.z));
    assert.ok(Math.abs((frame.px(1) - frame.px(0)) - (frame.py(1) - frame.py(0))) < 1e-9, "one scale for x and z");
    assert.ok(frame.py(-11) < frame.py(7), "z grows down the page");
    const empty = aar.fitFrame({ points: [], zones: [], start: null }, box);
    assert.ok(Number.isFinite(empty.scale) && empty.scale > 0);
  });

  it("picks round grid steps and writes scenario time as a clock", () => {
    assert.equal(aar.niceStep(23, 6), 5);
    assert.equal(aar.niceStep(7, 6), 2);
    assert.equal(aar.niceStep(0.5, 5), 0.1);
    assert.equal(formatClock(65.27), "01:05.3");
    assert.equal(formatClock(0), "00:00.0");
    assert.equal(formatClock(59.96), "01:00.0");
  });
});
