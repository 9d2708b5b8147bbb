/**
 * Shared fixtures for the web client's unit tests: an OpenGL frustum like the one a
 * headset reports (XRView.projectionMatrix), and a projection of world directions.
 */

import { conjugate, mat3Apply, toMat3 } from "../../../clients/web/js/quat.js";

/**
 * glFrustum from half-angle tangents, column-major like XRView.projectionMatrix
 * (the same construction as streamer/render/camera.py: perspective_from_fov).
 * @param {{up: number, down: number, left: number, right: number}} fov
 */
export function projectionFromFov(fov, near = 0.05, far = 500) {
  const x0 = -fov.left * near, x1 = fov.right * near, y0 = -fov.down * near, y1 = fov.up * near;
  const m = new Float32Array(16);
  m[0] = (2 * near) / (x1 - x0);
  m[8] = (x1 + x0) / (x1 - x0);
  m[5] = (2 * near) / (y1 - y0);
  m[9] = (y1 + y0) / (y1 - y0);
  m[10] = -(far + near) / (far - near);
  m[14] = (-2 * far * near) / (far - near);
  m[11] = -1;
  return m;
}

/**
 * Where a world direction lands in a camera's NDC, or null if behind it.
 * @param {Float32Array} projection column-major
 * @param {number[]} orientation camera orientation [x,y,z,w]
 * @param {number[]} direction world direction
 */
export function projectDirection(projection, orientation, direction) {
  const [x, y, z] = mat3Apply(toMat3(conjugate(orientation)), /** @type {any} */ (direction));
  if (z >= 0) return null;
  const w = -z;
  return [(projection[0] * x + projection[8] * z) / w, (projection[5] * y + projection[9] * z) / w];
}

/** A small deterministic random generator (mulberry32), so failures reproduce. */
export function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** @param {number} a @param {number} b @param {number} [eps] */
export function near(a, b, eps = 1e-6) {
  return Math.abs(a - b) <= eps;
}
