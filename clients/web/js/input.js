/**
 * Desktop input: keyboard, mouse look and gamepad, sent over the documented protocol.
 *
 * - Keys go by physical position (`KeyboardEvent.code`, UI Events KeyboardEvent code
 *   values), so WASD works on any layout. Auto-repeat is not sent (the streamer
 *   integrates held keys itself), and every held key is released when the window
 *   loses focus: a trainee must never keep walking after alt-tab.
 * - Mouse look uses Pointer Lock (W3C Pointer Lock 2.0; `unadjustedMovement` asks for
 *   raw, unaccelerated motion where supported). Where the lock is refused (some kiosk
 *   and embedded browsers), dragging with a button held looks around instead.
 * - Gamepads (W3C Gamepad) are polled once per animation frame, as the API requires.
 * - E and a gamepad's button 0 also send `act` `use` (bindings.js): the streamer knows
 *   no keys, only what they mean.
 *
 * Motion is coalesced per animation frame: one `mouse` message per display frame, not
 * one per OS event (a gaming mouse reports at 1000 Hz). Each frame that carried input
 * also sends one `pose` sample with the seated head pose: the streamer starts a frame
 * as soon as a pose arrives (streamer/frameclock.py), and the sample's `seq` lets the
 * stats overlay measure motion-to-photon (docs/protocol.md).
 */

import { buttonAction, keyAction } from "./bindings.js";
import { actMessage, axesMessage, buttonMessage, keyMessage, mouseMessage } from "./protocol.js";

/** Keys the page must not act on itself while the stream has them (scrolling, find…). */
const CAPTURED_NAVIGATION = new Set(["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Space", "PageUp", "PageDown", "Home", "End"]);
/** Keys left to the browser and to accessibility: focus moves, leaving pointer lock. */
const NEVER_SENT = new Set(["Tab", "Escape", "F5", "F11", "F12"]);
/** Stick positions closer to centre than this read as centred (worn sticks drift). */
export const STICK_DEADZONE = 0.12;

/**
 * @param {number} v
 * @returns {number}
 */
export function deadzone(v) {
  return Math.abs(v) < STICK_DEADZONE ? 0 : Math.round(v * 100) / 100;
}

/**
 * @typedef {object} InputSink
 * @property {(label: "input" | "events", message: object) => boolean} send
 * @property {(t: number) => void} tick once per animation frame that carried input
 */

export class DesktopInput {
  /**
   * @param {HTMLElement} surface the element that takes clicks (the video stage)
   * @param {InputSink} sink
   */
  constructor(surface, sink) {
    this.surface = surface;
    this.sink = sink;
    /** @type {Set<string>} */
    this.held = new Set();
    this.dx = 0;
    this.dy = 0;
    this.buttons = 0;
    this.dragging = false;
    this.activity = false;
    this.raf = 0;
    /** @type {Map<string, number[]>} last axes sent per device */
    this.axes = new Map();
    /** @type {Map<string, boolean[]>} last button states per device */
    this.pads = new Map();
    this.attached = false;
    this.handlers = {
      keydown: (/** @type {KeyboardEvent} */ e) => this.onKey(e, true),
      keyup: (/** @type {KeyboardEvent} */ e) => this.onKey(e, false),
      blur: () => this.releaseAll(),
      visibilitychange: () => document.hidden && this.releaseAll(),
      mousemove: (/** @type {MouseEvent} */ e) => this.onMove(e),
      pointerdown: (/** @type {PointerEvent} */ e) => this.onPointerDown(e),
      pointerup: (/** @type {PointerEvent} */ e) => this.onPointerUp(e),
    };
  }

  attach() {
    if (this.attached) return;
    this.attached = true;
    window.addEventListener("keydown", this.handlers.keydown);
    window.addEventListener("keyup", this.handlers.keyup);
    window.addEventListener("blur", this.handlers.blur);
    document.addEventListener("visibilitychange", this.handlers.visibilitychange);
    document.addEventListener("mousemove", this.handlers.mousemove);
    this.surface.addEventListener("pointerdown", this.handlers.pointerdown);
    window.addEventListener("pointerup", this.handlers.pointerup);
    const loop = (/** @type {number} */ t) => {
      this.frame(t);
      this.raf = requestAnimationFrame(loop);
    };
    this.raf = requestAnimationFrame(loop);
  }

  detach() {
    if (!this.attached) return;
    this.releaseAll();
    this.attached = false;
    cancelAnimationFrame(this.raf);
    window.removeEventListener("keydown", this.handlers.keydown);
    window.removeEventListener("keyup", this.handlers.keyup);
    window.removeEventListener("blur", this.handlers.blur);
    document.removeEventListener("visibilitychange", this.handlers.visibilitychange);
    document.removeEventListener("mousemove", this.handlers.mousemove);
    this.surface.removeEventListener("pointerdown", this.handlers.pointerdown);
    window.removeEventListener("pointerup", this.handlers.pointerup);
    if (document.pointerLockElement === this.surface) document.exitPointerLock();
  }

  get locked() {
    return document.pointerLockElement === this.surface;
  }

  /** @param {KeyboardEvent} e @param {boolean} down */
  onKey(e, down) {
    if (NEVER_SENT.has(e.code) || e.ctrlKey || e.metaKey || e.altKey) return;
    const target = /** @type {HTMLElement | null} */ (e.target);
    // Typing in a field is not steering; Space/Enter on a focused button press the button.
    if (target && target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    if (target && target.closest && target.closest("button, a") && ["Space", "Enter", "NumpadEnter"].includes(e.code)) return;
    if (down && (e.repeat || this.held.has(e.code))) {
      if (CAPTURED_NAVIGATION.has(e.code)) e.preventDefault();
      return;
    }
    if (!down && !this.held.has(e.code)) return;
    const t = e.timeStamp || performance.now();
    const message = keyMessage(e.code, down, t);
    if (!message) return;
    if (CAPTURED_NAVIGATION.has(e.code)) e.preventDefault();
    if (down) this.held.add(e.code);
    else this.held.delete(e.code);
    this.sink.send("events", message);
    const action = keyAction(e.code, down);
    if (action) this.sink.send("events", actMessage(action, null, t));
    this.activity = true;
  }

  /** Lifts every held key: focus loss must not leave the trainee walking. */
  releaseAll() {
    const t = performance.now();
    for (const code of this.held) {
      const message = keyMessage(code, false, t);
      if (message) this.sink.send("events", message);
    }
    this.held.clear();
    this.dragging = false;
  }

  /** @param {PointerEvent} e */
  onPointerDown(e) {
    if (e.pointerType === "mouse" && !this.locked && "requestPointerLock" in this.surface) {
      // Pointer Lock 2.0 returns a promise; raw motion where the platform has it.
      try {
        const request = /** @type {any} */ (this.surface).requestPointerLock({ unadjustedMovement: true });
        if (request && request.catch) {
          request.catch(() => {
            const fallback = /** @type {any} */ (this.surface).requestPointerLock();
            if (fallback && fallback.catch) fallback.catch(() => {});
          });
        }
      } catch {
        // refused: dragging still works
      }
    }
    this.dragging = true;
    this.buttons = e.buttons;
  }

  /** @param {PointerEvent} e */
  onPointerUp(e) {
    this.dragging = false;
    this.buttons = e.buttons;
  }

  /** @param {MouseEvent} e */
  onMove(e) {
    if (!this.locked && !this.dragging) return;
    this.dx += e.movementX || 0;
    this.dy += e.movementY || 0;
    this.buttons = e.buttons;
  }

  /** One animation frame: flush coalesced motion, poll gamepads, tick. @param {number} t */
  frame(t) {
    if (this.dx !== 0 || this.dy !== 0) {
      this.sink.send("events", mouseMessage(this.dx, this.dy, this.buttons, t));
      this.dx = 0;
      this.dy = 0;
      this.activity = true;
    }
    this.pollGamepads(t);
    if (this.activity || this.held.size > 0) this.sink.tick(t);
    this.activity = false;
  }

  /** @param {number} t */
  pollGamepads(t) {
    if (!navigator.getGamepads) return;
    const pad = [...navigator.getGamepads()].find((p) => p && p.connected);
    if (!pad) return;
    const values = pad.axes.slice(0, 8).map(deadzone);
    const previous = this.axes.get("gamepad") || [];
    const moving = values.some((v) => v !== 0);
    if (values.some((v, i) => v !== previous[i])) {
      this.sink.send("events", axesMessage("gamepad", values, t));
      this.axes.set("gamepad", values);
      this.activity = true;
    } else if (moving) {
      this.activity = true; // a held stick moves the camera every frame
    }
    const was = this.pads.get("gamepad") || [];
    const now = pad.buttons.slice(0, 64).map((b) => b.pressed);
    now.forEach((pressed, index) => {
      if (pressed !== Boolean(was[index])) {
        this.sink.send("events", buttonMessage("gamepad", index, pressed, pad.buttons[index].value, t));
        const action = buttonAction(index, pressed);
        if (action) this.sink.send("events", actMessage(action, null, t));
        this.activity = true;
      }
    });
    this.pads.set("gamepad", now);
  }
}
