/**
 * The scenario's words inside the headset: caption, pause and outcome on a head-locked
 * panel below the centre of view, drawn over the video in each eye (WebGL).
 *
 * In VR the page's DOM overlay is invisible, so what captions.js shows on a screen is
 * painted here into a canvas, uploaded as a texture only when the words change, and
 * blended onto a quad at the same place in both eyes: no disparity, so it reads as
 * far away and never fights the scene's depth (as film subtitles do in VR players).
 */

import { describeOutcome, PAUSED_WORDS } from "./wording.js";
import { createTexture, link } from "./xr-renderer.js";

const VERTEX = `
attribute vec2 a_ndc;
attribute vec2 a_uv;
varying vec2 v_uv;
void main() {
  v_uv = a_uv;
  gl_Position = vec4(a_ndc, 0.0, 1.0);
}`;

const FRAGMENT = `
precision mediump float;
uniform sampler2D u_panel;
varying vec2 v_uv;
void main() {
  gl_FragColor = texture2D(u_panel, v_uv);
}`;

/** Where the panel sits in each eye's viewport, in NDC: centred, below the middle. */
const PANEL = { left: -0.62, right: 0.62, bottom: -0.78, top: -0.42 };
// The panel's aspect in a typical eye (≈ 3.07 : 1), so the letters are not stretched.
const CANVAS = { width: 768, height: 250 };

export class CaptionPanel {
  /** @param {WebGLRenderingContext | WebGL2RenderingContext} gl */
  constructor(gl) {
    this.gl = gl;
    this.program = link(gl, VERTEX, FRAGMENT);
    this.buffer = gl.createBuffer();
    const { left, right, bottom, top } = PANEL;
    // x, y, u, v: the canvas's top row at the panel's top (UNPACK_FLIP_Y is false).
    const quad = [left, bottom, 0, 1, right, bottom, 1, 1, left, top, 0, 0, right, top, 1, 0];
    gl.bindBuffer(gl.ARRAY_BUFFER, this.buffer);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array(quad), gl.STATIC_DRAW);
    this.texture = createTexture(gl);
    this.canvas = document.createElement("canvas");
    this.canvas.width = CANVAS.width;
    this.canvas.height = CANVAS.height;
    this.loc = {
      ndc: gl.getAttribLocation(this.program, "a_ndc"),
      uv: gl.getAttribLocation(this.program, "a_uv"),
      panel: gl.getUniformLocation(this.program, "u_panel"),
    };
    /** @type {string[]} what the panel says now; empty: nothing is drawn */
    this.lines = [];
  }

  /**
   * Sets what the panel says (first line emphasised); repaints only on change.
   * @param {string[]} lines
   */
  set(lines) {
    const shown = lines.filter((line) => line);
    if (shown.join("\n") === this.lines.join("\n")) return;
    this.lines = shown;
    if (!shown.length) return;
    paint(this.canvas, shown);
    const gl = this.gl;
    gl.bindTexture(gl.TEXTURE_2D, this.texture);
    gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
    gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, true);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, this.canvas);
    gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
  }

  /**
   * Blends the panel over one eye's viewport of the bound framebuffer.
   * @param {{x: number, y: number, width: number, height: number}} viewport XRViewport
   */
  drawEye(viewport) {
    if (!this.lines.length) return;
    const gl = this.gl;
    gl.viewport(viewport.x, viewport.y, viewport.width, viewport.height);
    gl.disable(gl.DEPTH_TEST);
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA); // the texture is premultiplied
    gl.useProgram(this.program);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.buffer);
    gl.enableVertexAttribArray(this.loc.ndc);
    gl.vertexAttribPointer(this.loc.ndc, 2, gl.FLOAT, false, 16, 0);
    gl.enableVertexAttribArray(this.loc.uv);
    gl.vertexAttribPointer(this.loc.uv, 2, gl.FLOAT, false, 16, 8);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.texture);
    gl.uniform1i(this.loc.panel, 0);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    gl.disableVertexAttribArray(this.loc.uv);
    gl.disable(gl.BLEND);
  }

  dispose() {
    const gl = this.gl;
    gl.deleteTexture(this.texture);
    gl.deleteBuffer(this.buffer);
    gl.deleteProgram(this.program);
  }
}

/**
 * What a scenario update says in the headset, in captions.js's words for a screen.
 * @param {import("./protocol.js").ScenarioUpdate | null} update
 * @returns {string[]}
 */
export function captionLines(update) {
  if (!update) return [];
  if (update.outcome) {
    const words = describeOutcome(update.outcome, update.message);
    return [words.title, words.advice];
  }
  return [update.paused ? PAUSED_WORDS : "", update.caption || ""];
}

/**
 * A dark translucent card with the lines wrapped to its width.
 * @param {HTMLCanvasElement} canvas
 * @param {string[]} lines
 */
function paint(canvas, lines) {
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "rgba(9, 13, 19, 0.82)";
  ctx.beginPath();
  ctx.roundRect(4, 4, canvas.width - 8, canvas.height - 8, 28);
  ctx.fill();
  const wrapped = lines.flatMap((line, i) => {
    ctx.font = i === 0 && lines.length > 1 ? "600 44px system-ui, sans-serif" : "44px system-ui, sans-serif";
    return wrap(ctx, line, canvas.width - 64).map((text) => ({ text, strong: i === 0 && lines.length > 1 }));
  });
  const shown = wrapped.slice(0, 3);
  const top = (canvas.height - shown.length * 58) / 2 + 44;
  shown.forEach((line, i) => {
    ctx.font = line.strong ? "600 44px system-ui, sans-serif" : "44px system-ui, sans-serif";
    ctx.fillStyle = line.strong ? "#ffd28a" : "#f1f4f8";
    ctx.textAlign = "center";
    ctx.fillText(line.text, canvas.width / 2, top + i * 58);
  });
}

/**
 * Greedy word wrap to `width` pixels in the context's current font.
 * @param {CanvasRenderingContext2D} ctx
 * @param {string} text
 * @param {number} width
 */
function wrap(ctx, text, width) {
  const lines = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const next = line ? `${line} ${word}` : word;
    if (line && ctx.measureText(next).width > width) {
      lines.push(line);
      line = word;
    } else {
      line = next;
    }
  }
  if (line) lines.push(line);
  return lines;
}
