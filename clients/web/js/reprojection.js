/**
 * Rotational late-stage reprojection ("timewarp") for streamed headset frames.
 *
 * Why: a streamed frame is rendered for the head orientation the headset reported a
 * few tens of milliseconds ago. Drawn as is, the whole world turns with the head for
 * that long and then snaps back ("swimming"), which is what makes people sick in a
 * headset. So at display time we re-aim the old image at the current head orientation.
 *
 * How: treat the frame as painted on a sphere at infinity around the eye (rotation
 * only: the parallax of a few millimetres of head translation over ~40 ms is ignored,
 * as asynchronous timewarp does). Then every display pixel maps to a texel by a fixed
 * 3×3 homography, computed once per eye per XR frame and applied per fragment:
 *
 *   texel ~ H · [ndc_x, ndc_y, 1]ᵀ,   H = S_eye · K_render · R_Δ · K_display⁻¹
 *
 *   K_display⁻¹  display NDC → ray in the display eye's camera space, from the
 *                XRView's projection matrix (WebXR Device API §"XRView": an OpenGL
 *                style frustum, possibly asymmetric).
 *   R_Δ          that ray in the render camera's space: R(q_render⁻¹ ⊗ q_display).
 *   K_render     ray → [0,1]² in the rendered eye image, from the frustum the streamer
 *                rendered with (the tangents we sent in `xr_views`, docs/protocol.md).
 *   S_eye        [0,1]² of one eye → the side-by-side texture (left eye in the left
 *                half), flipping v because video rows arrive top-down.
 *
 * With no head motion and matching frusta H reduces to S_eye (the frame is drawn
 * unchanged); tests/web/unit/reprojection.test.mjs checks that and the turned cases.
 * Pure functions, no DOM.
 */

import { conjugate, mat3Apply, mat3Multiply, multiply, toMat3 } from "./quat.js";

/** @typedef {import("./quat.js").Quat} Quat */
/** @typedef {import("./quat.js").Mat3} Mat3 */
/** @typedef {{up: number, down: number, left: number, right: number}} Fov  tangents of the half-angles, all > 0 */

/**
 * The ray through display NDC (x, y) in the display eye's camera space, as a matrix:
 * [X, Y, Z] = K⁻¹ · [x, y, 1] with Z = −1 (the camera looks down −z).
 *
 * For an OpenGL projection P (column-major, as XRView.projectionMatrix):
 * x_ndc = (P00·X + P02·Z) / −Z, so at Z = −1, X = (x_ndc + P02) / P00; likewise for y.
 * @param {ArrayLike<number>} projection 16 numbers, column-major
 * @returns {Mat3}
 */
export function inverseDisplayIntrinsics(projection) {
  const p00 = projection[0];
  const p11 = projection[5];
  const p02 = projection[8];
  const p12 = projection[9];
  return [1 / p00, 0, p02 / p00, 0, 1 / p11, p12 / p11, 0, 0, -1];
}

/**
 * Render-camera ray → homogeneous [u·w, v·w, w] in the rendered eye image, where
 * w = −Z and (u, v) ∈ [0,1]² spans the frustum from its left/bottom to right/top edge.
 * @param {Fov} fov the frustum the streamer rendered this eye with
 * @returns {Mat3}
 */
export function renderIntrinsics(fov) {
  const width = fov.left + fov.right;
  const height = fov.up + fov.down;
  return [1 / width, 0, -fov.left / width, 0, 1 / height, -fov.down / height, 0, 0, -1];
}

/**
 * Places one eye's [0,1]² image in the video texture. Side-by-side stereo: the left eye
 * (index 0) fills the left half. Texture v runs top-down (video rows are uploaded
 * first-row-first without UNPACK_FLIP_Y), hence t = 1 − v.
 * @param {number} eye 0 = left, 1 = right
 * @param {boolean} sideBySide
 * @returns {Mat3}
 */
export function eyeToTexture(eye, sideBySide) {
  const sx = sideBySide ? 0.5 : 1;
  const ox = sideBySide ? eye * 0.5 : 0;
  return [sx, 0, ox, 0, -1, 1, 0, 0, 1];
}

/**
 * The rotation taking display-eye rays into the render camera:
 * v_world = R(q_display)·v, v_render = R(q_render)ᵀ·v_world.
 * @param {ArrayLike<number>} renderOrientation
 * @param {ArrayLike<number>} displayOrientation
 * @returns {Mat3}
 */
export function deltaRotation(renderOrientation, displayOrientation) {
  return toMat3(multiply(conjugate(renderOrientation), displayOrientation));
}

/**
 * @typedef {object} ReprojectionInput
 * @property {ArrayLike<number>} displayProjection XRView.projectionMatrix (column-major)
 * @property {ArrayLike<number>} displayOrientation XRView.transform.orientation as [x,y,z,w]
 * @property {Fov} renderFov the frustum the streamer rendered this eye with
 * @property {ArrayLike<number>} renderOrientation the camera orientation of the frame
 * @property {number} eye 0 = left, 1 = right
 * @property {boolean} sideBySide whether the video holds both eyes side by side
 */

/**
 * @typedef {object} Reprojection
 * @property {Mat3} homography display NDC → homogeneous texture coordinate (row-major)
 * @property {[number, number, number, number]} bounds this eye's texture rectangle
 *   [uMin, vMin, uMax, vMax]: samples outside it belong to the other eye or to nothing
 */

/**
 * Everything the shader needs to draw one eye reprojected.
 * @param {ReprojectionInput} input
 * @returns {Reprojection}
 */
export function reprojectEye(input) {
  const homography = mat3Multiply(
    mat3Multiply(eyeToTexture(input.eye, input.sideBySide), renderIntrinsics(input.renderFov)),
    mat3Multiply(
      deltaRotation(input.renderOrientation, input.displayOrientation),
      inverseDisplayIntrinsics(input.displayProjection),
    ),
  );
  const half = input.sideBySide ? 0.5 : 1;
  const u0 = input.sideBySide ? input.eye * 0.5 : 0;
  return { homography, bounds: [u0, 0, u0 + half, 1] };
}

/**
 * Where a display NDC point samples the texture: what the fragment shader computes.
 * @param {Mat3} homography
 * @param {number} x display NDC, −1 (left) … 1 (right)
 * @param {number} y display NDC, −1 (bottom) … 1 (top)
 * @returns {[number, number] | null} texture (s, t), or null if the ray points away
 *   from the rendered image (behind the render camera)
 */
export function sampleAt(homography, x, y) {
  const [a, b, w] = mat3Apply(homography, [x, y, 1]);
  if (!(w > 1e-6)) return null;
  return [a / w, b / w];
}
