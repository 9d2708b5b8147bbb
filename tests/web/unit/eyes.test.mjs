/**
 * Describing the headset's eyes (clients/web/js/eyes.js): frusta and eye offsets as the
 * `xr_views` message carries them, and the side-by-side stream size chosen for them.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { describeEyes, eyeOffsetInHead, fovFromProjection, MAX_EYE_PIXELS, stereoStreamSize } from "../../../clients/web/js/eyes.js";
import { fromAxisAngle } from "../../../clients/web/js/quat.js";
import { near, projectionFromFov } from "./helpers.mjs";

describe("eyes", () => {
  it("recovers the four tangents of an asymmetric frustum from its projection", () => {
    const fov = { up: 0.96, down: 1.19, left: 1.15, right: 0.84 };
    const got = fovFromProjection(projectionFromFov(fov));
    for (const side of /** @type {const} */ (["up", "down", "left", "right"])) {
      assert.ok(near(got[side], fov[side], 1e-5), `${side}: ${got[side]}`);
    }
  });

  it("expresses the eye offset in head space, whatever way the head faces", () => {
    const q = fromAxisAngle([0, 1, 0], Math.PI / 2); // facing −x
    const head = { p: [1, 1.6, 2], q };
    // The left eye, 32 mm to the head's left: for a head facing −x that is +z in the world.
    const eye = { p: [1, 1.6, 2.032], q };
    const [x, y, z] = eyeOffsetInHead(head, eye);
    assert.ok(near(x, -0.032, 1e-5) && near(y, 0, 1e-5) && near(z, 0, 1e-5), `${x}, ${y}, ${z}`);
  });

  it("lists the left eye first, as the streamer draws eyes[0] on the left", () => {
    const head = { p: [0, 1.6, 0], q: [0, 0, 0, 1] };
    const right = { eye: /** @type {const} */ ("right"), transform: { p: [0.03, 1.6, 0], q: [0, 0, 0, 1] }, projection: projectionFromFov({ up: 1, down: 1, left: 0.8, right: 1.1 }) };
    const left = { eye: /** @type {const} */ ("left"), transform: { p: [-0.03, 1.6, 0], q: [0, 0, 0, 1] }, projection: projectionFromFov({ up: 1, down: 1, left: 1.1, right: 0.8 }) };
    const eyes = describeEyes(head, [right, left]);
    assert.deepEqual(eyes[0].offset, [-0.03, 0, 0]);
    assert.ok(near(eyes[0].fov[2], 1.1, 1e-5) && near(eyes[1].fov[3], 1.1, 1e-5));
    assert.throws(() => describeEyes(head, [left]), /two views/);
  });

  it("keeps a small headset's native eye size", () => {
    assert.deepEqual(stereoStreamSize(640, 720), { width: 1280, height: 720 });
  });

  it("scales a high-resolution headset down to the pixel budget, keeping its shape", () => {
    const { width, height } = stereoStreamSize(1680, 1760);
    assert.equal(width % 4, 0, "two even halves");
    assert.equal(height % 2, 0);
    assert.ok((width / 2) * height <= MAX_EYE_PIXELS);
    assert.ok(Math.abs(width / 2 / height - 1680 / 1760) < 0.01);
  });

  it("rounds odd viewports to sizes the streamer accepts", () => {
    const { width, height } = stereoStreamSize(641, 359);
    assert.deepEqual([width % 4, height % 2], [0, 0]);
    assert.deepEqual(stereoStreamSize(10, 10), { width: 160, height: 120 });
  });
});
