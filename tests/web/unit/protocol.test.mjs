/**
 * The data-channel protocol as the browser writes it (clients/web/js/protocol.js):
 * every message stays inside the ranges ixstream/protocol.py accepts, and the frames
 * channel parser ignores what it does not know instead of failing.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import * as p from "../../../clients/web/js/protocol.js";

describe("protocol", () => {
  it("asks for unordered, unretransmitted input and frames channels and a reliable events channel", () => {
    assert.deepEqual(p.CHANNELS.input, { ordered: false, maxRetransmits: 0 });
    assert.deepEqual(p.CHANNELS.frames, { ordered: false, maxRetransmits: 0 });
    assert.deepEqual(p.CHANNELS.events, {});
  });

  it("sends pose samples with a unit quaternion and no missing controllers", () => {
    const m = p.poseMessage(7, 1234.5678, { p: [0, 1.6, 0], q: [0, 0.2, 0, 0.9] });
    assert.equal(m.v, 1);
    assert.equal(m.type, "pose");
    assert.equal(m.seq, 7);
    assert.equal(m.t, 1234.6);
    assert.ok(Math.abs(Math.hypot(...m.head.q) - 1) < 1e-5);
    assert.equal(m.left, null);
    assert.equal(m.right, null);
  });

  it("refuses key codes the protocol cannot carry", () => {
    assert.equal(p.keyMessage("", true, 0), null);
    assert.equal(p.keyMessage("Key-W", true, 0), null);
    assert.deepEqual(p.keyMessage("KeyW", true, 5), { v: 1, type: "key", code: "KeyW", down: true, t: 5 });
  });

  it("clamps mouse, button and axis values to the documented ranges", () => {
    const mouse = p.mouseMessage(20000, -Infinity, 99, 0);
    assert.deepEqual([mouse.dx, mouse.dy, mouse.buttons], [10000, 0, 31]);
    const button = p.buttonMessage("gamepad", 70, true, 1.5, 0);
    assert.deepEqual([button.index, button.value], [63, 1]);
    const axes = p.axesMessage("left", [2, -2, 0.5, 0, 0, 0, 0, 0, 0.3], 0);
    assert.deepEqual(axes.values, [1, -1, 0.5, 0, 0, 0, 0, 0]);
  });

  it("writes act events as the streamer parses them: an action, an object or null, a time", () => {
    assert.deepEqual(p.actMessage("use", null, 12.34), { v: 1, type: "act", action: "use", object: null, t: 12.3 });
    assert.equal(p.actMessage("grab", "alarm-button", 0).object, "alarm-button");
  });

  it("refuses to encode a message over 4096 bytes", () => {
    assert.throws(() => p.encode({ v: 1, type: "key", code: "x".repeat(5000) }), /exceeds/);
  });

  it("parses hello and frame records and ignores anything else", () => {
    const hello = p.parseServerMessage(JSON.stringify({ v: 1, type: "hello", role: "trainee", controls: true, width: 2560, height: 1440, fps: 72, codec: "h264", stereo: true }));
    assert.equal(hello?.type, "hello");
    const frame = p.parseServerMessage(new TextEncoder().encode(JSON.stringify({ v: 1, type: "frame", id: 3, rtp: 90, pose: { p: [0, 1.6, 0], q: [0, 0, 0, 1] }, seq: null, input_t: null, keyframe: true, server: {} })).buffer);
    assert.equal(frame?.type, "frame");
    assert.equal(p.parseServerMessage("not json"), null);
    assert.equal(p.parseServerMessage(JSON.stringify({ v: 2, type: "hello", stereo: true })), null);
    assert.equal(p.parseServerMessage(JSON.stringify({ v: 1, type: "weather" })), null);
  });

  it("parses scenario updates with every field typed, and drops malformed ones", () => {
    const update = p.parseServerMessage(JSON.stringify({ v: 1, type: "scenario", scenario: "gas-leak-warehouse", t: 12.5, caption: "You hear a hiss.", paused: false, outcome: null, message: null }));
    assert.deepEqual(update, { type: "scenario", scenario: "gas-leak-warehouse", t: 12.5, caption: "You hear a hiss.", paused: false, outcome: null, message: null });
    const ended = p.parseServerMessage(JSON.stringify({ v: 1, type: "scenario", t: 30, paused: true, outcome: "success", message: "Out by the north exit." }));
    assert.deepEqual(ended, { type: "scenario", scenario: null, t: 30, caption: null, paused: true, outcome: "success", message: "Out by the north exit." });
    assert.equal(p.parseServerMessage(JSON.stringify({ v: 1, type: "scenario", t: 1, caption: "x" })), null, "paused is required");
    assert.equal(p.parseServerMessage(JSON.stringify({ v: 1, type: "scenario", t: "soon", paused: false })), null);
    assert.equal(p.parseServerMessage(JSON.stringify({ v: 1, type: "scenario", t: 1, paused: false, caption: 42 }))?.caption, null);
  });
});
