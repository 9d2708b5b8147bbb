/**
 * Rotational late-stage reprojection (clients/web/js/reprojection.js): the homography
 * draws the frame unchanged when the head has not moved, shifts it the right way when
 * the head turns, and in general shows every world direction where the display expects
 * it, for asymmetric headset frusta and either eye.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { fromAxisAngle, IDENTITY_QUAT, multiply, normalize } from "../../../clients/web/js/quat.js";
import { reprojectEye, sampleAt } from "../../../clients/web/js/reprojection.js";
import { near, projectDirection, projectionFromFov, seeded } from "./helpers.mjs";

const SYMMETRIC = { up: 1, down: 1, left: 1, right: 1 };
// A Quest-like left eye: the nasal (right) side narrower than the temporal side.
const LEFT_EYE = { up: 0.96, down: 1.19, left: 1.15, right: 0.84 };
const RIGHT_EYE = { up: 0.96, down: 1.19, left: 0.84, right: 1.15 };
const Y = [0, 1, 0];
const X = [1, 0, 0];
const Z = [0, 0, 1];

/** Where the eye's own, unreprojected image puts display NDC (x, y) in the texture. */
function unchanged(eye, sideBySide, x, y) {
  const u = (x + 1) / 2;
  const v = (y + 1) / 2;
  return sideBySide ? [(eye + u) / 2, 1 - v] : [u, 1 - v];
}

describe("reprojection", () => {
  it("draws the frame unchanged when the head has not moved", () => {
    for (const eye of [0, 1]) {
      const fov = eye === 0 ? LEFT_EYE : RIGHT_EYE;
      const orientation = normalize([0.1, 0.3, -0.05, 0.9]);
      const { homography, bounds } = reprojectEye({
        displayProjection: projectionFromFov(fov), displayOrientation: orientation,
        renderFov: fov, renderOrientation: orientation, eye, sideBySide: true,
      });
      assert.deepEqual(bounds, [eye * 0.5, 0, eye * 0.5 + 0.5, 1]);
      for (const [x, y] of [[0, 0], [-1, -1], [1, 1], [0.5, -0.25], [-0.9, 0.7]]) {
        const [s, t] = /** @type {number[]} */ (sampleAt(homography, x, y));
        const [es, et] = unchanged(eye, true, x, y);
        assert.ok(near(s, es, 1e-5) && near(t, et, 1e-5), `eye ${eye} at (${x}, ${y}): got (${s}, ${t}), want (${es}, ${et})`);
      }
    }
  });

  it("moves the picture right when the head turns left", () => {
    const turn = (10 * Math.PI) / 180;
    const { homography } = reprojectEye({
      displayProjection: projectionFromFov(SYMMETRIC), displayOrientation: fromAxisAngle(Y, turn),
      renderFov: SYMMETRIC, renderOrientation: IDENTITY_QUAT, eye: 0, sideBySide: false,
    });
    // The centre of the display now looks 10° left of where the frame was aimed, so it
    // shows the texel that was tan(10°) left of the frame's centre.
    const [s, t] = /** @type {number[]} */ (sampleAt(homography, 0, 0));
    assert.ok(near(s, (1 - Math.tan(turn)) / 2, 1e-6), `s = ${s}`);
    assert.ok(near(t, 0.5, 1e-6));
  });

  it("moves the picture down when the head pitches up", () => {
    const pitch = (8 * Math.PI) / 180;
    const { homography } = reprojectEye({
      displayProjection: projectionFromFov(SYMMETRIC), displayOrientation: fromAxisAngle(X, pitch),
      renderFov: SYMMETRIC, renderOrientation: IDENTITY_QUAT, eye: 0, sideBySide: false,
    });
    const [s, t] = /** @type {number[]} */ (sampleAt(homography, 0, 0));
    assert.ok(near(s, 0.5, 1e-6));
    // Texture t runs top-down: a texel above the frame's centre has t < 0.5.
    assert.ok(near(t, 0.5 - Math.tan(pitch) / 2, 1e-6), `t = ${t}`);
  });

  it("counter-rotates the picture when the head rolls", () => {
    const roll = (15 * Math.PI) / 180;
    const { homography } = reprojectEye({
      displayProjection: projectionFromFov(SYMMETRIC), displayOrientation: fromAxisAngle(Z, roll),
      renderFov: SYMMETRIC, renderOrientation: IDENTITY_QUAT, eye: 0, sideBySide: false,
    });
    // The display's right edge midpoint looks along the render camera's (cos, sin) direction.
    const [s, t] = /** @type {number[]} */ (sampleAt(homography, 0.5, 0));
    assert.ok(near(s, 0.5 + 0.25 * Math.cos(roll), 1e-6), `s = ${s}`);
    assert.ok(near(t, 0.5 - 0.25 * Math.sin(roll), 1e-6), `t = ${t}`);
  });

  it("shows every world direction where the display expects it", () => {
    const random = seeded(4);
    const span = (/** @type {number} */ a) => (random() * 2 - 1) * a;
    let checked = 0;
    for (let trial = 0; trial < 200; trial++) {
      const eye = trial % 2;
      const fov = eye === 0 ? LEFT_EYE : RIGHT_EYE;
      const renderOrientation = normalize([span(0.5), span(0.5), span(0.2), 1]);
      // The head moved by up to ~17° about a random axis since the frame was rendered.
      const delta = fromAxisAngle(normalize([span(1), span(1), span(1), 0]).slice(0, 3), span(0.3));
      const displayOrientation = multiply(renderOrientation, delta);
      const displayProjection = projectionFromFov(fov);
      const { homography } = reprojectEye({
        displayProjection, displayOrientation, renderFov: fov, renderOrientation, eye, sideBySide: true,
      });
      // A direction visible to both cameras:
      const direction = [span(0.4), span(0.4), -1];
      const rotated = multiply(renderOrientation, [direction[0], direction[1], direction[2], 0]);
      const world = multiply(rotated, [-renderOrientation[0], -renderOrientation[1], -renderOrientation[2], renderOrientation[3]]).slice(0, 3);
      const onDisplay = projectDirection(displayProjection, displayOrientation, world);
      const inFrame = projectDirection(projectionFromFov(fov), renderOrientation, world);
      if (!onDisplay || !inFrame) continue;
      const [s, t] = /** @type {number[]} */ (sampleAt(homography, onDisplay[0], onDisplay[1]));
      const [es, et] = unchanged(eye, true, inFrame[0], inFrame[1]);
      assert.ok(near(s, es, 1e-4) && near(t, et, 1e-4), `trial ${trial}: (${s}, ${t}) vs (${es}, ${et})`);
      checked++;
    }
    assert.ok(checked > 150, `only ${checked} of 200 directions were visible to both cameras`);
  });

  it("samples nothing for a direction behind the rendered frame", () => {
    const { homography } = reprojectEye({
      displayProjection: projectionFromFov(SYMMETRIC), displayOrientation: fromAxisAngle(Y, Math.PI),
      renderFov: SYMMETRIC, renderOrientation: IDENTITY_QUAT, eye: 0, sideBySide: false,
    });
    assert.equal(sampleAt(homography, 0, 0), null);
  });

  it("keeps each eye inside its own half of a side-by-side frame", () => {
    const right = reprojectEye({
      displayProjection: projectionFromFov(RIGHT_EYE), displayOrientation: fromAxisAngle(Y, 0.2),
      renderFov: RIGHT_EYE, renderOrientation: IDENTITY_QUAT, eye: 1, sideBySide: true,
    });
    const [s] = /** @type {number[]} */ (sampleAt(right.homography, -1, 0));
    // Turned left, the display's left edge looks past the frame's left edge: the sample
    // falls left of the right eye's half and the shader paints the border instead.
    assert.ok(s < right.bounds[0], `s = ${s}`);
  });
});
