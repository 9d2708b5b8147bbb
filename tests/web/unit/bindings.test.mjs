/**
 * The web client's bindings (clients/web/js/bindings.js): which key and which buttons
 * act in a scenario. The streamer knows no keys; these decide what E and a trigger do.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { buttonAction, keyAction } from "../../../clients/web/js/bindings.js";

describe("bindings", () => {
  it("uses what the trainee looks at when E goes down, not when it comes up", () => {
    assert.equal(keyAction("KeyE", true), "use");
    assert.equal(keyAction("KeyE", false), null);
  });

  it("leaves every other key to navigation", () => {
    for (const code of ["KeyW", "KeyA", "KeyS", "KeyD", "Space", "KeyQ", "ArrowUp"]) {
      assert.equal(keyAction(code, true), null, code);
    }
  });

  it("uses on a press of button 0 (a gamepad's A, a controller's trigger) and no other", () => {
    assert.equal(buttonAction(0, true), "use");
    assert.equal(buttonAction(0, false), null);
    assert.equal(buttonAction(1, true), null, "the squeeze is not a use");
    assert.equal(buttonAction(3, true), null);
  });
});
