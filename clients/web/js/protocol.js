/**
 * The IX Stream data-channel protocol, version 1, as the browser speaks it.
 *
 * docs/protocol.md is the contract and ixstream/protocol.py the server's strict parser:
 * a message that breaks a rule is dropped and counted there, so we build every message
 * here, clamped to the documented ranges, and never hand-write JSON elsewhere.
 * Pure functions, no DOM.
 */

import { normalize } from "./quat.js";

export const PROTOCOL_VERSION = 1;
export const MAX_MESSAGE_BYTES = 4096;

/**
 * The channels the viewer creates in its offer (the streamer adopts them by label).
 * `input` and `frames` are unordered with no retransmission: a newer pose or frame
 * record supersedes a lost one, and a reliable channel would hold every later pose
 * behind one lost packet (head-of-line blocking; STYLE.md, "Epic's input protocol").
 * @type {Readonly<Record<"input" | "events" | "frames", RTCDataChannelInit>>}
 */
export const CHANNELS = Object.freeze({
  input: { ordered: false, maxRetransmits: 0 },
  events: {},
  frames: { ordered: false, maxRetransmits: 0 },
});

/** @typedef {{p: number[], q: number[]}} WirePose */

const KEY_CODE = /^[A-Za-z0-9]{1,32}$/;

/** @param {number} v @param {number} lo @param {number} hi */
const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, Number.isFinite(v) ? v : 0));

/** Milliseconds rounded to 0.1: enough for latency, and keeps messages short. */
const ms = (/** @type {number} */ t) => Math.round(t * 10) / 10;

/**
 * A pose as the protocol wants it: finite numbers, a unit quaternion.
 * @param {{p: ArrayLike<number>, q: ArrayLike<number>}} pose
 * @returns {WirePose}
 */
export function wirePose(pose) {
  const r = (/** @type {number} */ v) => Math.round((Number.isFinite(v) ? v : 0) * 1e5) / 1e5;
  const q = normalize(pose.q);
  return { p: [r(pose.p[0]), r(pose.p[1]), r(pose.p[2])], q: q.map((c) => Math.round(c * 1e6) / 1e6) };
}

/**
 * A tracking sample for the `input` channel.
 * @param {number} seq strictly increasing per viewer
 * @param {number} t the viewer's clock, ms (performance.now())
 * @param {{p: ArrayLike<number>, q: ArrayLike<number>}} head
 * @param {{p: ArrayLike<number>, q: ArrayLike<number>} | null} [left]
 * @param {{p: ArrayLike<number>, q: ArrayLike<number>} | null} [right]
 */
export function poseMessage(seq, t, head, left = null, right = null) {
  return {
    v: 1, type: "pose", seq, t: ms(t), head: wirePose(head),
    left: left ? wirePose(left) : null, right: right ? wirePose(right) : null,
  };
}

/**
 * A key press or release, by physical key (`KeyboardEvent.code`: layout independent,
 * so WASD stays under the left hand on an AZERTY keyboard).
 * @param {string} code
 * @param {boolean} down
 * @param {number} t
 * @returns {object | null} null for codes the protocol cannot carry ("", "Unidentified" is fine)
 */
export function keyMessage(code, down, t) {
  if (!KEY_CODE.test(code)) return null;
  return { v: 1, type: "key", code, down, t: ms(t) };
}

/**
 * Relative mouse motion in CSS pixels (pointer lock's movementX/Y), and the buttons held.
 * @param {number} dx
 * @param {number} dy
 * @param {number} buttons MouseEvent.buttons
 * @param {number} t
 */
export function mouseMessage(dx, dy, buttons, t) {
  return {
    v: 1, type: "mouse",
    dx: Math.round(clamp(dx, -10000, 10000) * 100) / 100,
    dy: Math.round(clamp(dy, -10000, 10000) * 100) / 100,
    buttons: clamp(Math.trunc(buttons), 0, 31), t: ms(t),
  };
}

/**
 * @param {"gamepad" | "left" | "right"} device
 * @param {number} index 0–63
 * @param {boolean} pressed
 * @param {number} value 0–1
 * @param {number} t
 */
export function buttonMessage(device, index, pressed, value, t) {
  return {
    v: 1, type: "button", device, index: clamp(Math.trunc(index), 0, 63), pressed,
    value: Math.round(clamp(value, 0, 1) * 1000) / 1000, t: ms(t),
  };
}

/**
 * Stick and trigger positions (at most 8 values in [−1, 1]).
 * @param {"gamepad" | "left" | "right"} device
 * @param {ArrayLike<number>} values
 * @param {number} t
 */
export function axesMessage(device, values, t) {
  const out = Array.from(values).slice(0, 8).map((v) => Math.round(clamp(v, -1, 1) * 1000) / 1000);
  return { v: 1, type: "axes", device, values: out, t: ms(t) };
}

/**
 * The trainee acts on something in the scene (a scenario's `acts_on` trigger).
 * @param {"use" | "grab" | "touch"} action
 * @param {string | null} object a scenario object's id, or null: what the trainee looks at
 * @param {number} t
 */
export function actMessage(action, object, t) {
  return { v: 1, type: "act", action, object, t: ms(t) };
}

/**
 * The headset's two eyes (see eyes.js: describeEyes).
 * @param {{offset: number[], fov: number[]}[]} eyes
 */
export function xrViewsMessage(eyes) {
  return { v: 1, type: "xr_views", eyes };
}

/**
 * Serialises, refusing what the streamer would drop as `oversized`.
 * @param {object} message
 * @returns {string}
 */
export function encode(message) {
  const text = JSON.stringify(message);
  if (text.length > MAX_MESSAGE_BYTES) throw new Error(`message of ${text.length} bytes exceeds ${MAX_MESSAGE_BYTES}`);
  return text;
}

/**
 * @typedef {object} Hello
 * @property {"hello"} type
 * @property {"trainee" | "spectator" | "instructor"} role
 * @property {boolean} controls whether this viewer's input is applied
 * @property {number} width
 * @property {number} height
 * @property {number} fps
 * @property {string} codec
 * @property {boolean} stereo
 * @property {boolean} [recording] the session is being recorded (shown to everyone)
 */

/**
 * @typedef {object} FrameInfo
 * @property {"frame"} type
 * @property {number} id
 * @property {number | null} rtp RTP timestamp as this viewer receives it
 * @property {WirePose} pose camera pose the frame was rendered with (navigation ∘ head)
 * @property {number | null} seq last input sample applied
 * @property {number | null} input_t that sample's `t`, echoed
 * @property {boolean} keyframe
 * @property {{render_ms: number, convert_ms: number, encode_ms: number, done_at_ms: number}} server
 */

/**
 * @typedef {object} ScenarioUpdate  what the trainee should see of the running scenario;
 *   sent whenever the caption, the pause or the outcome changes, and once after hello
 * @property {"scenario"} type
 * @property {string | null} scenario the scenario's id
 * @property {number} t scenario time, seconds (does not advance while paused)
 * @property {string | null} caption the line of text to show now, if any
 * @property {boolean} paused the instructor paused the scenario
 * @property {"success" | "partial" | "failure" | string | null} outcome set once it ended
 * @property {string | null} message the outcome's explanation, if any
 */

/**
 * A `scenario` message with every field in its documented type (null where missing).
 * @param {any} message
 * @returns {ScenarioUpdate | null}
 */
function scenarioUpdate(message) {
  if (typeof message.paused !== "boolean" || !Number.isFinite(message.t)) return null;
  const text = (/** @type {unknown} */ v) => (typeof v === "string" && v ? v : null);
  return {
    type: "scenario", scenario: text(message.scenario), t: message.t, caption: text(message.caption), paused: message.paused,
    outcome: text(message.outcome), message: text(message.message),
  };
}

/**
 * Parses a `frames` channel message. Returns null for anything that is not a v1
 * `hello`, `frame` or `scenario` (a newer streamer may add types: ignore, do not crash).
 * @param {string | ArrayBuffer} data
 * @returns {Hello | FrameInfo | ScenarioUpdate | null}
 */
export function parseServerMessage(data) {
  let message;
  try {
    const text = typeof data === "string" ? data : new TextDecoder().decode(data);
    message = JSON.parse(text);
  } catch {
    return null;
  }
  if (!message || typeof message !== "object" || message.v !== PROTOCOL_VERSION) return null;
  if (message.type === "hello" && typeof message.stereo === "boolean") return message;
  if (message.type === "frame" && Number.isInteger(message.id) && message.pose) return message;
  if (message.type === "scenario") return scenarioUpdate(message);
  return null;
}
