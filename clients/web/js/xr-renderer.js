/**
 * Draws the received video into a headset's eye views, reprojected (WebGL).
 *
 * One full-viewport triangle pair per eye; the fragment shader maps each display pixel
 * to a texel through the homography from reprojection.js, so the only per-frame CPU
 * work is one texture upload and two 3×3 matrices. Works on WebGL 1 and 2 (GLSL ES
 * 1.00), since headset browsers differ.
 *
 * Texels outside the eye's half of the side-by-side frame are painted a dark border
 * colour instead of sampling the other eye: after a fast head turn the edge of the
 * picture shows as a calm dark rim (what asynchronous timewarp shows), never as the
 * wrong eye's image, which would hurt.
 */

import { toColumnMajor } from "./quat.js";

const VERTEX = `
attribute vec2 a_ndc;
varying vec2 v_ndc;
void main() {
  v_ndc = a_ndc;
  gl_Position = vec4(a_ndc, 0.0, 1.0);
}`;

const FRAGMENT = `
precision highp float;
uniform sampler2D u_frame;
uniform mat3 u_homography;   // display NDC -> homogeneous texture coordinate
uniform vec4 u_bounds;       // this eye's texture rectangle: sMin, tMin, sMax, tMax
uniform vec2 u_half_texel;   // keeps linear filtering from reaching across the eye seam
uniform vec3 u_border;
varying vec2 v_ndc;
void main() {
  vec3 h = u_homography * vec3(v_ndc, 1.0);
  if (h.z <= 1e-6) { gl_FragColor = vec4(u_border, 1.0); return; }
  vec2 st = h.xy / h.z;
  if (st.x < u_bounds.x || st.x > u_bounds.z || st.y < u_bounds.y || st.y > u_bounds.w) {
    gl_FragColor = vec4(u_border, 1.0);
    return;
  }
  st = clamp(st, u_bounds.xy + u_half_texel, u_bounds.zw - u_half_texel);
  gl_FragColor = vec4(texture2D(u_frame, st).rgb, 1.0);
}`;

/** The rim after a fast turn: near-black with a hint of the UI's blue. */
const BORDER = [0.03, 0.04, 0.06];

export class ReprojectingRenderer {
  /** @param {WebGLRenderingContext | WebGL2RenderingContext} gl */
  constructor(gl) {
    this.gl = gl;
    this.program = link(gl, VERTEX, FRAGMENT);
    this.buffer = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, this.buffer);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
    this.texture = createTexture(gl);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, 1, 1, 0, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array([8, 10, 15, 255]));
    this.size = { width: 1, height: 1 };
    this.loc = {
      ndc: gl.getAttribLocation(this.program, "a_ndc"),
      frame: gl.getUniformLocation(this.program, "u_frame"),
      homography: gl.getUniformLocation(this.program, "u_homography"),
      bounds: gl.getUniformLocation(this.program, "u_bounds"),
      halfTexel: gl.getUniformLocation(this.program, "u_half_texel"),
      border: gl.getUniformLocation(this.program, "u_border"),
    };
  }

  /**
   * Uploads the current picture (a playing <video>, or a canvas with a status message).
   * Rows go in top-down (UNPACK_FLIP_Y false): reprojection.js flips t to match.
   * @param {TexImageSource} source
   * @param {number} width
   * @param {number} height
   */
  upload(source, width, height) {
    const gl = this.gl;
    gl.bindTexture(gl.TEXTURE_2D, this.texture);
    gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, source);
    this.size = { width, height };
  }

  /** Clears the bound framebuffer (the XR layer's) before the eyes are drawn. */
  clear() {
    const gl = this.gl;
    gl.disable(gl.SCISSOR_TEST);
    gl.clearColor(BORDER[0], BORDER[1], BORDER[2], 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
  }

  /**
   * Draws one eye into `viewport` of the bound framebuffer.
   * @param {{x: number, y: number, width: number, height: number}} viewport XRViewport
   * @param {import("./reprojection.js").Reprojection} reprojection
   */
  drawEye(viewport, reprojection) {
    const gl = this.gl;
    gl.viewport(viewport.x, viewport.y, viewport.width, viewport.height);
    gl.disable(gl.DEPTH_TEST);
    gl.disable(gl.BLEND);
    gl.useProgram(this.program);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.buffer);
    gl.enableVertexAttribArray(this.loc.ndc);
    gl.vertexAttribPointer(this.loc.ndc, 2, gl.FLOAT, false, 0, 0);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.texture);
    gl.uniform1i(this.loc.frame, 0);
    gl.uniformMatrix3fv(this.loc.homography, false, toColumnMajor(reprojection.homography));
    gl.uniform4fv(this.loc.bounds, reprojection.bounds);
    gl.uniform2f(this.loc.halfTexel, 0.5 / this.size.width, 0.5 / this.size.height);
    gl.uniform3fv(this.loc.border, BORDER);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
  }

  dispose() {
    const gl = this.gl;
    gl.deleteTexture(this.texture);
    gl.deleteBuffer(this.buffer);
    gl.deleteProgram(this.program);
  }
}

/**
 * Compiles and links a GLSL ES 1.00 program, or throws with the driver's log.
 * @param {WebGLRenderingContext} gl
 * @param {string} vertex
 * @param {string} fragment
 */
export function link(gl, vertex, fragment) {
  const program = /** @type {WebGLProgram} */ (gl.createProgram());
  for (const [type, source] of /** @type {const} */ ([[gl.VERTEX_SHADER, vertex], [gl.FRAGMENT_SHADER, fragment]])) {
    const shader = /** @type {WebGLShader} */ (gl.createShader(type));
    gl.shaderSource(shader, source);
    gl.compileShader(shader);
    if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
      throw new Error(`shader did not compile: ${gl.getShaderInfoLog(shader)}`);
    }
    gl.attachShader(program, shader);
  }
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) {
    throw new Error(`shader program did not link: ${gl.getProgramInfoLog(program)}`);
  }
  return program;
}

/**
 * A bound 2D texture for pictures of any size: video and canvas sizes are rarely powers
 * of two, so no mipmaps, clamped, linear (WebGL 1's rules for such textures).
 * @param {WebGLRenderingContext} gl
 */
export function createTexture(gl) {
  const texture = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, texture);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
  return texture;
}
