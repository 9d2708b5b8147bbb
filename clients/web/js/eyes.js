/**
 * Describing a headset's eyes to the streamer, and sizing the stereo stream for them.
 *
 * Headsets have asymmetric frusta (the nasal side is narrower) and an eye offset that
 * varies with the wearer's IPD, so the streamer must render exactly the frusta the
 * headset will display (docs/protocol.md, `xr_views`). WebXR exposes them only as
 * projection matrices and view transforms (WebXR Device API §"XRView"); this module
 * turns those into the tangents and head-space offsets the protocol carries, and picks
 * a side-by-side frame size that matches the eyes' pixel density within a budget.
 *
 * Pure functions, no DOM.
 */

import { conjugate, mat3Apply, toMat3 } from "./quat.js";

/** @typedef {import("./reprojection.js").Fov} Fov */
/** @typedef {{p: number[], q: number[]}} Pose  position (m) and orientation [x,y,z,w] */

/**
 * Most pixels per eye we ask for. A Quest 3 recommends ~1680×1760 per eye; a CPU
 * streamer manages ~29 fps at 2560×1440 side by side (FIELD-NOTES), a GPU pod more. We
 * keep the eyes' aspect ratio and scale down to this budget; the reprojection and the
 * headset's own resampling hide the difference far better than a dropped frame would.
 */
export const MAX_EYE_PIXELS = 1_600_000;

/** The orchestrator's limits (orchestrator/api/schemas.py: SessionCreate). */
const MIN_WIDTH = 160;
const MIN_HEIGHT = 120;
const MAX_WIDTH = 7680;
const MAX_HEIGHT = 4320;

/**
 * The tangents of a frustum's four half-angles from an OpenGL projection matrix.
 * glFrustum: P00 = 2/(L+R), P02 = (R−L)/(R+L) for tangents L, R (and the same for y),
 * so R = (1+P02)/P00, L = (1−P02)/P00, U = (1+P12)/P11, D = (1−P12)/P11.
 * @param {ArrayLike<number>} projection column-major 4×4
 * @returns {Fov}
 */
export function fovFromProjection(projection) {
  const p00 = projection[0];
  const p11 = projection[5];
  const p02 = projection[8];
  const p12 = projection[9];
  return {
    up: (1 + p12) / p11,
    down: (1 - p12) / p11,
    left: (1 - p02) / p00,
    right: (1 + p02) / p00,
  };
}

/**
 * The eye's position relative to the head, in head space: R_headᵀ · (p_eye − p_head).
 * That is what the streamer adds to the head pose for each eye (streamer/render/camera.py).
 * @param {Pose} head
 * @param {Pose} eye
 * @returns {[number, number, number]}
 */
export function eyeOffsetInHead(head, eye) {
  const d = [eye.p[0] - head.p[0], eye.p[1] - head.p[1], eye.p[2] - head.p[2]];
  const [x, y, z] = mat3Apply(toMat3(conjugate(head.q)), /** @type {any} */ (d));
  const round = (/** @type {number} */ v) => Math.round(v * 1e5) / 1e5; // 10 µm is plenty
  return [round(x), round(y), round(z)];
}

/**
 * @typedef {object} EyeDescription
 * @property {"left" | "right" | "none"} eye XRView.eye
 * @property {Pose} transform the view's pose in the reference space
 * @property {ArrayLike<number>} projection XRView.projectionMatrix
 */

/**
 * The `eyes` of an `xr_views` message: left first, then right (the streamer draws
 * eyes[0] into the left half of the frame).
 * @param {Pose} head the viewer pose of the same XR frame
 * @param {EyeDescription[]} views
 * @returns {{offset: number[], fov: number[]}[]}
 */
export function describeEyes(head, views) {
  const order = { left: 0, none: 1, right: 2 };
  const sorted = [...views].sort((a, b) => order[a.eye] - order[b.eye]);
  if (sorted.length !== 2) {
    throw new Error(`a stereo stream needs exactly two views, the headset reports ${sorted.length}`);
  }
  return sorted.map((view) => {
    const f = fovFromProjection(view.projection);
    return {
      offset: eyeOffsetInHead(head, view.transform),
      fov: [f.up, f.down, f.left, f.right].map((t) => Math.min(20, Math.max(1e-3, t))),
    };
  });
}

/**
 * The side-by-side frame size for two eyes of `eyeWidth`×`eyeHeight` device pixels,
 * scaled down (never up) to `maxEyePixels` per eye. The width is a multiple of 4 (two
 * even halves: the streamer's I420 chroma blocks must not straddle the eyes) and the
 * height even, within the orchestrator's limits.
 * @param {number} eyeWidth
 * @param {number} eyeHeight
 * @param {number} [maxEyePixels]
 * @returns {{width: number, height: number}}
 */
export function stereoStreamSize(eyeWidth, eyeHeight, maxEyePixels = MAX_EYE_PIXELS) {
  if (!(eyeWidth > 0 && eyeHeight > 0)) throw new Error("eye viewport has no pixels");
  let scale = Math.min(1, Math.sqrt(maxEyePixels / (eyeWidth * eyeHeight)));
  scale = Math.min(scale, MAX_WIDTH / (2 * eyeWidth), MAX_HEIGHT / eyeHeight);
  const evenDown = (/** @type {number} */ v) => 2 * Math.floor(v / 2);
  const eye = Math.max(MIN_WIDTH / 2, evenDown(eyeWidth * scale));
  const height = Math.max(MIN_HEIGHT, evenDown(eyeHeight * scale));
  return { width: 2 * eye, height };
}
