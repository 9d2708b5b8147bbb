/**
 * What the trainee's keys and buttons mean in a scenario: the client's bindings.
 *
 * The streamer executes `act` events and knows no keys (docs/protocol.md); which key or
 * button acts is this client's choice, so it lives here. Pure functions, no DOM.
 *
 * - Desktop: **E** (by physical position, `KeyboardEvent.code`), and a gamepad's
 *   button 0 (the standard mapping's bottom face button, A / Cross).
 * - Headset: a controller's button 0 (the trigger in the xr-standard mapping, WebXR
 *   Gamepads Module), either hand.
 * Each acts as `use` on what the trainee looks at (`object` null: the streamer picks the
 * scenario object nearest the gaze, within reach).
 */

/** @typedef {"use" | "grab" | "touch"} Action */

/** The key that uses what the trainee looks at. */
export const USE_KEY = "KeyE";
/** The button that uses it: a gamepad's A / Cross, a controller's trigger. */
export const USE_BUTTON = 0;

/**
 * The action a key press starts, if any (a release never acts).
 * @param {string} code KeyboardEvent.code
 * @param {boolean} down
 * @returns {Action | null}
 */
export function keyAction(code, down) {
  return down && code === USE_KEY ? "use" : null;
}

/**
 * The action a button press starts, if any (a release never acts).
 * @param {number} index the button's index in its gamepad's mapping
 * @param {boolean} pressed
 * @returns {Action | null}
 */
export function buttonAction(index, pressed) {
  return pressed && index === USE_BUTTON ? "use" : null;
}
