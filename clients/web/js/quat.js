/**
 * Quaternion and 3×3 matrix helpers: the little linear algebra the headset client needs.
 *
 * Conventions are WebXR's (WebXR Device API §"XRRigidTransform"): right-handed, +y up,
 * −z forward, quaternions as [x, y, z, w]. 3×3 matrices are plain arrays of nine numbers
 * in row-major order (m[row * 3 + col]) because that reads like the maths on paper;
 * `toColumnMajor` converts for WebGL, whose `uniformMatrix3fv` wants columns.
 *
 * Pure functions, no DOM: node's test runner imports this module directly.
 */

/** @typedef {[number, number, number, number]} Quat  x, y, z, w */
/** @typedef {[number, number, number]} Vec3 */
/** @typedef {number[]} Mat3  nine numbers, row-major */

/** @type {Readonly<Quat>} */
export const IDENTITY_QUAT = Object.freeze([0, 0, 0, 1]);

/**
 * Hamilton product a ⊗ b: the rotation b followed by a (as for rotation matrices, A·B).
 * @param {ArrayLike<number>} a
 * @param {ArrayLike<number>} b
 * @returns {Quat}
 */
export function multiply(a, b) {
  const [ax, ay, az, aw] = [a[0], a[1], a[2], a[3]];
  const [bx, by, bz, bw] = [b[0], b[1], b[2], b[3]];
  return [
    aw * bx + ax * bw + ay * bz - az * by,
    aw * by - ax * bz + ay * bw + az * bx,
    aw * bz + ax * by - ay * bx + az * bw,
    aw * bw - ax * bx - ay * by - az * bz,
  ];
}

/**
 * The inverse rotation of a unit quaternion.
 * @param {ArrayLike<number>} q
 * @returns {Quat}
 */
export function conjugate(q) {
  return [-q[0], -q[1], -q[2], q[3]];
}

/**
 * Scales to unit length. Poses from a tracker are float32 and drift off unit length;
 * the protocol rejects |q| outside 0.9–1.1, and a non-unit quaternion would scale the
 * image in the reprojection, so every quaternion we send or use passes through here.
 * @param {ArrayLike<number>} q
 * @returns {Quat}
 */
export function normalize(q) {
  const n = Math.hypot(q[0], q[1], q[2], q[3]);
  if (!(n > 0) || !Number.isFinite(n)) return [0, 0, 0, 1];
  return [q[0] / n, q[1] / n, q[2] / n, q[3] / n];
}

/**
 * @param {Vec3} axis unit axis
 * @param {number} angle radians, counter-clockwise looking down the axis (right-handed)
 * @returns {Quat}
 */
export function fromAxisAngle(axis, angle) {
  const s = Math.sin(angle / 2);
  return [axis[0] * s, axis[1] * s, axis[2] * s, Math.cos(angle / 2)];
}

/**
 * The rotation as a row-major 3×3 matrix (it maps a vector in the rotated frame to the
 * parent frame: v_parent = R · v_local).
 * @param {ArrayLike<number>} q
 * @returns {Mat3}
 */
export function toMat3(q) {
  const [x, y, z, w] = normalize(q);
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
    2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
    2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
  ];
}

/**
 * Row-major matrix product a · b.
 * @param {Mat3} a
 * @param {Mat3} b
 * @returns {Mat3}
 */
export function mat3Multiply(a, b) {
  /** @type {Mat3} */
  const out = new Array(9).fill(0);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      out[r * 3 + c] = a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
    }
  }
  return out;
}

/**
 * @param {Mat3} m
 * @param {Vec3} v
 * @returns {Vec3}
 */
export function mat3Apply(m, v) {
  return [
    m[0] * v[0] + m[1] * v[1] + m[2] * v[2],
    m[3] * v[0] + m[4] * v[1] + m[5] * v[2],
    m[6] * v[0] + m[7] * v[1] + m[8] * v[2],
  ];
}

/**
 * Column-major copy for WebGL's `uniformMatrix3fv(loc, false, …)` (WebGL 1 forbids
 * transpose = true, so we transpose here once instead).
 * @param {Mat3} m
 * @returns {Float32Array}
 */
export function toColumnMajor(m) {
  return new Float32Array([m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]]);
}

/**
 * The angle of the rotation between two orientations, radians in [0, π].
 * Used by tests and by the stats overlay ("reprojected by 2.1°").
 * @param {ArrayLike<number>} a
 * @param {ArrayLike<number>} b
 * @returns {number}
 */
export function angleBetween(a, b) {
  const d = multiply(conjugate(normalize(a)), normalize(b));
  return 2 * Math.acos(Math.min(1, Math.abs(d[3])));
}
