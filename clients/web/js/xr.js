/**
 * The headset client (WebXR Device API, immersive-vr).
 *
 * On every XR frame it
 *   1. sends the head pose (and controller grip poses) on the unreliable `input`
 *      channel: a lost sample is superseded by the next one, 72–120 times a second;
 *   2. draws the newest video frame into each eye's viewport, reprojected from the head
 *      orientation that frame was rendered for to the orientation the headset predicts
 *      for this display refresh (reprojection.js).
 * When the session starts (and whenever the eyes change) it sends the eyes' offsets
 * and frusta once on `events` (`xr_views`), so the streamer renders exactly what the
 * headset displays, side by side.
 *
 * Which pose a video frame was rendered for: `requestVideoFrameCallback` reports the
 * RTP timestamp of the frame being presented; the `frames` channel carries the same
 * timestamp with the input `seq` the frame applied; we look up the head orientation we
 * sent with that `seq` (frametrack.js). Where the browser stops video-frame callbacks
 * during immersive sessions, we fall back to the newest frame record (slightly early:
 * its frame may still be decoding), which still removes most of the swim.
 */

import { describeEyes, stereoStreamSize } from "./eyes.js";
import { FrameLedger, PoseLog, renderHeadOrientation } from "./frametrack.js";
import { MotionToPhoton } from "./latency.js";
import { buttonAction } from "./bindings.js";
import { actMessage, axesMessage, buttonMessage, poseMessage, xrViewsMessage } from "./protocol.js";
import { angleBetween } from "./quat.js";
import { reprojectEye } from "./reprojection.js";
import { CaptionPanel, captionLines } from "./xr-caption.js";
import { ReprojectingRenderer } from "./xr-renderer.js";

/** @typedef {import("./stream.js").StreamConnection} StreamConnection */
/** @typedef {import("./reprojection.js").Fov} Fov */

/** The status panel's frustum: a head-locked card about 60° wide in front of the eyes. */
const PANEL_FOV = { up: 0.3, down: 0.3, left: 0.6, right: 0.6 };

/** @returns {Promise<boolean>} whether this browser can run an immersive VR session */
export async function immersiveVrSupported() {
  const xr = /** @type {any} */ (navigator).xr;
  if (!xr || !xr.isSessionSupported) return false;
  try {
    return Boolean(await xr.isSessionSupported("immersive-vr"));
  } catch {
    return false; // e.g. blocked by a permissions policy
  }
}

/** @param {DOMPointReadOnly} p @returns {number[]} */
const xyz = (p) => [p.x, p.y, p.z];
/** @param {DOMPointReadOnly} q @returns {number[]} */
const xyzw = (q) => [q.x, q.y, q.z, q.w];
/** @param {XRRigidTransform} t */
const poseOf = (t) => ({ p: xyz(t.position), q: xyzw(t.orientation) });

/** What the headset listens to on the stream. */
const STREAM_EVENTS = ["hello", "frame", "open", "scenario"];

export class HeadsetClient extends EventTarget {
  /** @param {HTMLVideoElement} video the element the stream plays in (it stays in the page) */
  constructor(video) {
    super();
    this.video = video;
    /** @type {any} XRSession */
    this.session = null;
    /** @type {any} XRReferenceSpace */
    this.space = null;
    /** @type {WebGLRenderingContext | WebGL2RenderingContext | null} */
    this.gl = null;
    /** @type {ReprojectingRenderer | null} */
    this.renderer = null;
    /** @type {CaptionPanel | null} the scenario's words, drawn over the video */
    this.caption = null;
    /** @type {import("./protocol.js").ScenarioUpdate | null} the latest scenario message */
    this.scenario = null;
    /** @type {StreamConnection | null} */
    this.stream = null;
    this.frames = new FrameLedger();
    this.poses = new PoseLog();
    this.latency = new MotionToPhoton();
    this.seq = 0;
    /** @type {{offset: number[], fov: number[]}[] | null} the eyes last sent in xr_views */
    this.sentEyes = null;
    /** @type {{offset: number[], fov: number[]}[] | null} */
    this.eyes = null;
    this.eyesKey = "";
    /** @type {import("./protocol.js").Hello | null} */
    this.hello = null;
    /** @type {number | undefined} RTP timestamp of the frame the browser presented last */
    this.presentedRtp = undefined;
    /** Degrees the last drawn frame was turned by (for the stats and the tests). */
    this.lastCorrectionDeg = 0;
    this.drawnVideoFrames = 0;
    this.statusLines = ["Starting…"];
    this.statusDirty = true;
    this.statusCanvas = document.createElement("canvas");
    /** @type {Map<string, {axes: number[], buttons: boolean[]}>} */
    this.controllerState = new Map();
    /** @type {((value: {width: number, height: number, eyes: any[]}) => void) | null} */
    this.resolveFirstViews = null;
    /** @type {((gl: WebGLRenderingContext, layer: any) => void) | null} called after each
     *  XR frame is drawn, while its framebuffer is bound (diagnostics and tests) */
    this.afterDraw = null;
    this.onStreamEvent = this.onStreamEvent.bind(this);
  }

  /**
   * Starts the immersive session. Call from a click handler: browsers require a user
   * gesture for requestSession (WebXR Device API §"requestSession", transient activation).
   * @returns {Promise<{width: number, height: number, eyes: any[]}>} resolves at the
   *   first XR frame with the side-by-side stream size for these eyes, and the eyes
   */
  async enter() {
    const xr = /** @type {any} */ (navigator).xr;
    const session = await xr.requestSession("immersive-vr", { optionalFeatures: ["local-floor"] });
    this.session = session;
    const canvas = document.createElement("canvas");
    // xrCompatible: the context must live on the GPU the headset uses (WebXR §"makeXRCompatible").
    const options = { xrCompatible: true, alpha: false, antialias: false, depth: false };
    const gl = /** @type {WebGL2RenderingContext | null} */ (canvas.getContext("webgl2", options)) ||
      /** @type {WebGLRenderingContext | null} */ (canvas.getContext("webgl", options));
    if (!gl) throw new Error("this browser has no WebGL");
    this.gl = gl;
    this.renderer = new ReprojectingRenderer(gl);
    this.caption = new CaptionPanel(gl);
    const XRWebGLLayerCtor = /** @type {any} */ (globalThis).XRWebGLLayer;
    session.updateRenderState({ baseLayer: new XRWebGLLayerCtor(session, gl, { antialias: false }) });
    // local-floor puts y = 0 at the floor, matching the streamer's eye height in metres;
    // 'local' (always available) is the fallback for seated-only runtimes.
    this.space = await session.requestReferenceSpace("local-floor").catch(() => session.requestReferenceSpace("local"));
    session.addEventListener("end", () => {
      this.session = null;
      this.dispatchEvent(new CustomEvent("end"));
    });
    const first = new Promise((resolve) => (this.resolveFirstViews = resolve));
    session.requestAnimationFrame((/** @type {number} */ t, /** @type {any} */ f) => this.onXRFrame(t, f));
    this.watchPresentedFrames();
    return /** @type {Promise<{width: number, height: number, eyes: any[]}>} */ (first);
  }

  /** Ends the immersive session (the page stays). */
  async exit() {
    if (this.session) await this.session.end().catch(() => {});
  }

  /**
   * Streams through `stream`: poses go out, its video comes in.
   * @param {StreamConnection} stream
   */
  attach(stream) {
    this.detach();
    this.stream = stream;
    for (const type of STREAM_EVENTS) stream.addEventListener(type, this.onStreamEvent);
  }

  detach() {
    if (!this.stream) return;
    for (const type of STREAM_EVENTS) this.stream.removeEventListener(type, this.onStreamEvent);
    this.stream = null;
    this.sentEyes = null;
  }

  /**
   * What the head-locked panel says while there is no picture.
   * @param {string[]} lines first line is the heading
   */
  setStatus(lines) {
    this.statusLines = lines;
    this.statusDirty = true;
  }

  /** @param {Event} event */
  onStreamEvent(event) {
    const detail = /** @type {CustomEvent} */ (event).detail;
    if (event.type === "hello") this.hello = detail.hello;
    else if (event.type === "frame") this.frames.add(detail.frame);
    else if (event.type === "scenario") {
      // Repeated every second on an unordered channel: keep the newest.
      if (!this.scenario || detail.scenario.t >= this.scenario.t) this.scenario = detail.scenario;
    }
    // New channels after a reconnection: the XR frame loop sends the eyes again.
    else if (event.type === "open" && detail.label === "events") this.sentEyes = null;
  }

  /** Keeps `presentedRtp` current (HTML video.requestVideoFrameCallback). */
  watchPresentedFrames() {
    const video = /** @type {any} */ (this.video);
    if (!video.requestVideoFrameCallback) return;
    const onFrame = (/** @type {number} */ _now, /** @type {any} */ metadata) => {
      if (typeof metadata.rtpTimestamp === "number") this.presentedRtp = metadata.rtpTimestamp;
      if (this.session) video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }

  /**
   * @param {number} time
   * @param {any} frame XRFrame
   */
  onXRFrame(time, frame) {
    const session = frame.session;
    session.requestAnimationFrame((/** @type {number} */ t, /** @type {any} */ f) => this.onXRFrame(t, f));
    const viewer = frame.getViewerPose(this.space);
    if (!viewer) return; // tracking lost this frame: keep the last image
    const layer = session.renderState.baseLayer;
    const head = poseOf(viewer.transform);
    this.noteViews(head, viewer.views, layer);
    if (!this.sentEyes) this.sendViews(true);
    this.sendPose(frame, head);
    this.pollControllers(session);
    const gl = /** @type {WebGLRenderingContext} */ (this.gl);
    gl.bindFramebuffer(gl.FRAMEBUFFER, layer.framebuffer);
    const renderer = /** @type {ReprojectingRenderer} */ (this.renderer);
    renderer.clear();
    if (this.hasPicture()) {
      this.drawVideo(viewer.views, layer);
      this.drawCaption(viewer.views, layer);
    } else {
      this.drawStatus(viewer.views, layer);
    }
    if (this.afterDraw) this.afterDraw(gl, layer);
  }

  hasPicture() {
    return Boolean(this.stream && this.video.readyState >= 2 && this.video.videoWidth > 0 && this.stream.state !== "stalled");
  }

  /**
   * Records the eyes; resolves `enter()` on the first frame; resends `xr_views` if the
   * eyes changed (an IPD adjustment, a different headset profile).
   * @param {{p: number[], q: number[]}} head
   * @param {any[]} views
   * @param {any} layer
   */
  noteViews(head, views, layer) {
    const described = views.map((/** @type {any} */ v) => ({ eye: v.eye, transform: poseOf(v.transform), projection: v.projectionMatrix }));
    const eyes = describeEyes(head, described);
    const key = JSON.stringify(eyes.map((e) => [e.offset.map((x) => x.toFixed(3)), e.fov.map((x) => x.toFixed(3))]));
    this.eyes = eyes;
    if (key !== this.eyesKey) {
      this.eyesKey = key;
      this.sendViews(true);
    }
    if (this.resolveFirstViews) {
      const viewport = layer.getViewport(views[0]);
      const size = stereoStreamSize(viewport.width, viewport.height);
      this.resolveFirstViews({ ...size, eyes });
      this.resolveFirstViews = null;
    }
  }

  /** @param {boolean} force */
  sendViews(force) {
    if (!this.stream || !this.eyes || (!force && this.sentEyes)) return;
    if (this.stream.send("events", xrViewsMessage(this.eyes))) this.sentEyes = this.eyes;
  }

  /**
   * @param {any} frame XRFrame
   * @param {{p: number[], q: number[]}} head
   */
  sendPose(frame, head) {
    if (!this.stream) return;
    /** @type {Record<string, {p: number[], q: number[]} | null>} */
    const hands = { left: null, right: null };
    for (const source of frame.session.inputSources) {
      if (!source.gripSpace || !(source.handedness in hands)) continue;
      const grip = frame.getPose(source.gripSpace, this.space);
      if (grip) hands[source.handedness] = poseOf(grip.transform);
    }
    const seq = this.seq + 1;
    const t = performance.now();
    if (this.stream.send("input", poseMessage(seq, t, head, hands.left, hands.right))) {
      this.seq = seq;
      this.poses.add(seq, head.q);
      this.latency.sent(seq, t);
    }
  }

  /**
   * Controller buttons and sticks (xr-standard gamepad mapping, WebXR Gamepads Module),
   * sent on change only: `events` is reliable, and its queue must stay short. The
   * trigger also sends `act` `use` (bindings.js).
   * @param {any} session
   */
  pollControllers(session) {
    if (!this.stream) return;
    const t = performance.now();
    for (const source of session.inputSources) {
      const hand = source.handedness;
      if (!source.gamepad || (hand !== "left" && hand !== "right")) continue;
      const previous = this.controllerState.get(hand) || { axes: [], buttons: [] };
      const axes = Array.from(source.gamepad.axes, (/** @type {number} */ v) => Math.round(v * 100) / 100).slice(0, 8);
      if (axes.some((v, i) => v !== previous.axes[i])) this.stream.send("events", axesMessage(hand, axes, t));
      const buttons = Array.from(source.gamepad.buttons, (/** @type {any} */ b) => Boolean(b.pressed));
      buttons.forEach((pressed, i) => {
        if (pressed !== Boolean(previous.buttons[i])) {
          this.stream?.send("events", buttonMessage(hand, i, pressed, source.gamepad.buttons[i].value, t));
          const action = buttonAction(i, pressed);
          if (action) this.stream?.send("events", actMessage(action, null, t));
        }
      });
      this.controllerState.set(hand, { axes, buttons });
    }
  }

  /**
   * @param {any[]} views
   * @param {any} layer
   */
  drawVideo(views, layer) {
    const renderer = /** @type {ReprojectingRenderer} */ (this.renderer);
    renderer.upload(this.video, this.video.videoWidth, this.video.videoHeight);
    const record = this.frames.lookup(this.presentedRtp) || this.frames.latest;
    const sideBySide = this.hello ? this.hello.stereo : true;
    const eyes = this.sentEyes || this.eyes;
    let correction = 0;
    for (const view of views) {
      const eye = view.eye === "right" ? 1 : 0;
      const displayOrientation = xyzw(view.transform.orientation);
      const renderOrientation = record ? renderHeadOrientation(record, this.poses) : displayOrientation;
      const fov = eyes ? eyes[eye].fov : [1, 1, 1, 1];
      renderer.drawEye(layer.getViewport(view), reprojectEye({
        displayProjection: view.projectionMatrix,
        displayOrientation,
        renderFov: { up: fov[0], down: fov[1], left: fov[2], right: fov[3] },
        renderOrientation,
        eye,
        sideBySide,
      }));
      correction = angleBetween(renderOrientation, displayOrientation);
    }
    this.lastCorrectionDeg = (correction * 180) / Math.PI;
    this.drawnVideoFrames++;
    if (record) this.latency.displayed(record.seq, performance.now());
  }

  /**
   * The scenario's caption, pause or outcome over both eyes (captions.js shows the same
   * on a screen; in VR the page is not visible).
   * @param {any[]} views
   * @param {any} layer
   */
  drawCaption(views, layer) {
    const caption = /** @type {CaptionPanel} */ (this.caption);
    caption.set(captionLines(this.scenario));
    for (const view of views) caption.drawEye(layer.getViewport(view));
  }

  /**
   * The status card, head-locked (reprojection with render = display orientation).
   * @param {any[]} views
   * @param {any} layer
   */
  drawStatus(views, layer) {
    const renderer = /** @type {ReprojectingRenderer} */ (this.renderer);
    if (this.statusDirty) {
      paintStatus(this.statusCanvas, this.statusLines);
      this.statusDirty = false;
    }
    renderer.upload(this.statusCanvas, this.statusCanvas.width, this.statusCanvas.height);
    for (const view of views) {
      const q = xyzw(view.transform.orientation);
      renderer.drawEye(layer.getViewport(view), reprojectEye({
        displayProjection: view.projectionMatrix, displayOrientation: q,
        renderFov: PANEL_FOV, renderOrientation: q, eye: 0, sideBySide: false,
      }));
    }
  }
}

/**
 * Paints the status card: the product's dark panel, a heading and a line or two.
 * @param {HTMLCanvasElement} canvas
 * @param {string[]} lines
 */
function paintStatus(canvas, lines) {
  canvas.width = 1024;
  canvas.height = 512;
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
  ctx.fillStyle = "#0d131b";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = "#2b3a4d";
  ctx.lineWidth = 6;
  ctx.strokeRect(3, 3, canvas.width - 6, canvas.height - 6);
  ctx.fillStyle = "#8ab4ff";
  ctx.font = "600 34px system-ui, sans-serif";
  ctx.fillText("IX Stream", 64, 96);
  ctx.fillStyle = "#e8edf3";
  ctx.font = "600 52px system-ui, sans-serif";
  ctx.fillText(lines[0] || "", 64, 220, canvas.width - 128);
  ctx.fillStyle = "#b7c2cf";
  ctx.font = "36px system-ui, sans-serif";
  lines.slice(1, 4).forEach((line, i) => ctx.fillText(line, 64, 300 + i * 52, canvas.width - 128));
}
