/**
 * The stage: the full-window video of one session, with its status, stats overlay and
 * (for the trainee) keyboard, mouse and gamepad input. Shared by the trainee view
 * (index.html), the headset view (behind the immersive session) and the spectator
 * view (watch.html); the pages decide where the WHEP endpoint and tokens come from.
 *
 * It never leaves a frozen frame on screen: when the stream stalls the picture is
 * dimmed and a message says what is happening; when the session is over the picture
 * is removed and the page shows why (event "over").
 *
 * A stage whose markup holds a `[data-role=scenario]` element also shows the running
 * scenario's caption, pause and outcome there (captions.js; event "scenario").
 */

import { ScenarioOverlay } from "./captions.js";
import { FrameLedger } from "./frametrack.js";
import { DesktopInput } from "./input.js";
import { MotionToPhoton } from "./latency.js";
import { StatsOverlay } from "./overlay.js";
import { poseMessage } from "./protocol.js";
import { figures } from "./stats.js";
import { relayRequested, StreamConnection } from "./stream.js";
import { $ } from "./ui.js";
import { describeConnectionProblem, describeSessionEnd } from "./wording.js";

/** The seated desktop head: 1.6 m eye height, looking down −z (the streamer's default). */
const DESKTOP_HEAD = { p: [0, 1.6, 0], q: [0, 0, 0, 1] };
/** Rates are computed over at least this long (getStats counters are cumulative). */
const RATE_WINDOW_MS = 1000;
const HINT_MS = 9000;
const IDLE_MS = 3000;

/**
 * @typedef {object} StageOptions
 * @property {() => Promise<import("./stream.js").Endpoint>} endpoint
 * @property {() => Promise<import("./stream.js").SessionCheck>} [checkSession]
 * @property {boolean} drives sends input (trainee) or only watches (spectator)
 * @property {boolean} [desktopInput] keyboard/mouse/gamepad from this page (false in VR)
 * @property {"h264" | "vp8"} [codec]
 * @property {string} title shown in the top bar
 * @property {number | null} [targetFps]
 * @property {(stream: StreamConnection) => void} [onStream] called before connecting
 *   (the headset client attaches here, so it sees the first `hello` and frames)
 */

export class Stage extends EventTarget {
  /** @param {HTMLElement} root the `.stage` element */
  constructor(root) {
    super();
    this.root = root;
    this.video = /** @type {HTMLVideoElement} */ ($("video", root));
    this.overlay = new StatsOverlay($("[data-role=stats]", root));
    this.message = $("[data-role=message]", root);
    this.hint = $("[data-role=hint]", root);
    this.dot = $("[data-role=dot]", root);
    this.status = $("[data-role=status]", root);
    const scenarioRoot = /** @type {HTMLElement | null} */ (root.querySelector("[data-role=scenario]"));
    this.scenarioOverlay = scenarioRoot ? new ScenarioOverlay(scenarioRoot) : null;
    /** @type {import("./protocol.js").ScenarioUpdate | null} the latest scenario message */
    this.scenario = null;
    /** @type {StreamConnection | null} */
    this.stream = null;
    /** @type {DesktopInput | null} */
    this.input = null;
    this.frames = new FrameLedger();
    this.latency = new MotionToPhoton();
    this.seq = 0;
    /** @type {import("./protocol.js").Hello | null} */
    this.hello = null;
    /** @type {{at: number, snap: import("./stats.js").Snapshot}[]} */
    this.snapshots = [];
    /** @type {import("./stats.js").Figures | null} */
    this.figures = null;
    this.targetFps = /** @type {number | null} */ (null);
    /** @type {ReturnType<typeof setInterval> | null} */
    this.ticker = null;
    this.hintTimer = 0;
    this.idleTimer = 0;
    this.shownHint = false;
    /** @type {(() => number | null) | null} headset pages report their reprojection here */
    this.reprojectionSource = null;
    this.onPointerActivity = this.onPointerActivity.bind(this);
  }

  /** @param {StageOptions} options */
  async open(options) {
    await this.close();
    this.options = options;
    this.targetFps = options.targetFps ?? null;
    $("[data-role=title]", this.root).textContent = options.title;
    this.root.classList.remove("dimmed", "no-picture");
    this.setMessage("Connecting to your training station…", "This usually takes a second or two.");
    this.frames = new FrameLedger();
    this.latency = new MotionToPhoton();
    this.snapshots = [];
    this.figures = null;
    this.hello = null;
    this.scenario = null;
    this.scenarioOverlay?.reset();
    const stream = new StreamConnection({
      endpoint: options.endpoint, checkSession: options.checkSession, drives: options.drives, codec: options.codec,
      relayOnly: relayRequested(location.search),
    });
    this.stream = stream;
    stream.addEventListener("track", (e) => this.onTrack(/** @type {CustomEvent} */ (e).detail.stream));
    stream.addEventListener("hello", (e) => this.onHello(/** @type {CustomEvent} */ (e).detail.hello));
    stream.addEventListener("frame", (e) => this.frames.add(/** @type {CustomEvent} */ (e).detail.frame));
    stream.addEventListener("scenario", (e) => this.onScenario(/** @type {CustomEvent} */ (e).detail.scenario));
    stream.addEventListener("stats", (e) => this.onSnapshot(/** @type {CustomEvent} */ (e).detail.snapshot));
    stream.addEventListener("state", (e) => this.onState(/** @type {CustomEvent} */ (e).detail));
    if (options.onStream) options.onStream(stream);
    if (options.drives && options.desktopInput !== false) {
      this.input = new DesktopInput(this.video, {
        send: (label, message) => stream.send(label, message),
        tick: (t) => this.sendTick(t),
      });
      this.input.attach();
    }
    this.watchPresentedFrames();
    this.ticker = setInterval(() => this.refreshOverlay(), 500);
    this.root.addEventListener("pointermove", this.onPointerActivity);
    this.onPointerActivity();
    await stream.start();
  }

  /**
   * Stops watching: WHEP DELETE and close. The session itself is the page's business.
   * @param {{keepalive?: boolean}} [options]
   */
  async close(options = {}) {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    clearTimeout(this.hintTimer);
    clearTimeout(this.idleTimer);
    this.root.removeEventListener("pointermove", this.onPointerActivity);
    if (this.input) this.input.detach();
    this.input = null;
    const stream = this.stream;
    this.stream = null;
    if (stream) await stream.stop(options);
    this.video.srcObject = null;
  }

  /** @param {MediaStream} media */
  onTrack(media) {
    this.video.srcObject = media;
    this.video.muted = true; // no audio track; muted also satisfies autoplay policies
    this.video.play().catch(() => {});
  }

  /**
   * One input tick (desktop): a seated-head pose sample. The streamer renders as soon
   * as it arrives, and its `seq` comes back on the frame that applied it.
   * @param {number} t
   */
  sendTick(t) {
    if (!this.stream) return;
    const seq = this.seq + 1;
    const now = performance.now();
    if (this.stream.send("input", poseMessage(seq, now, DESKTOP_HEAD))) {
      this.seq = seq;
      this.latency.sent(seq, now);
    }
    void t;
  }

  /** Motion-to-photon: which input the presented frame shows (frametrack.js). */
  watchPresentedFrames() {
    const video = /** @type {any} */ (this.video);
    if (!video.requestVideoFrameCallback) return;
    const onFrame = (/** @type {number} */ now, /** @type {any} */ metadata) => {
      const record = this.frames.lookup(metadata.rtpTimestamp);
      if (record) this.latency.displayed(record.seq, metadata.expectedDisplayTime || now);
      if (this.stream) video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }

  /**
   * The streamer says hello once per connection; it also says whether the session is
   * recorded, which everyone watching is shown (nobody is recorded unawares).
   * @param {import("./protocol.js").Hello} hello
   */
  onHello(hello) {
    this.hello = hello;
    const badge = /** @type {HTMLElement | null} */ (this.root.querySelector("[data-role=recording]"));
    if (badge) {
      badge.hidden = !hello.recording;
      badge.title = hello.recording ? "This session's video is being recorded for the after-action review." : "";
    }
  }

  /** @param {import("./protocol.js").ScenarioUpdate} update */
  onScenario(update) {
    if (this.scenario && update.t < this.scenario.t) return; // stale: `frames` is unordered
    this.scenario = update;
    this.scenarioOverlay?.update(update);
    this.dispatchEvent(new CustomEvent("scenario", { detail: { scenario: update } }));
  }

  /** @param {import("./stats.js").Snapshot} snap */
  onSnapshot(snap) {
    const now = performance.now();
    // A reconnection restarts the counters: start the history again.
    const last = this.snapshots[this.snapshots.length - 1];
    if (last && snap.framesDecoded < last.snap.framesDecoded) this.snapshots = [];
    this.snapshots.push({ at: now, snap });
    while (this.snapshots.length > 2 && now - this.snapshots[1].at >= RATE_WINDOW_MS) this.snapshots.shift();
    this.figures = figures(this.snapshots[0].snap, snap);
  }

  /** @param {{state: string, previous: string, problem?: any}} change */
  onState({ state, problem }) {
    this.dot.className = `live-dot ${state === "live" ? "live" : state === "failed" || state === "ended" ? "bad" : ""}`;
    const words = { connecting: "Connecting", live: "Live", stalled: "Picture paused", reconnecting: "Reconnecting", ended: "Ended", failed: "Disconnected", closed: "Closed" };
    this.status.textContent = words[/** @type {keyof words} */ (state)] || state;
    if (state === "live") {
      this.root.classList.remove("dimmed", "no-picture");
      this.setMessage(null);
      this.showHintOnce();
    } else if (state === "stalled") {
      this.root.classList.add("dimmed");
      this.setMessage("The picture has paused.", "Checking the connection to your training station…");
    } else if (state === "reconnecting") {
      this.root.classList.add("dimmed");
      this.setMessage("Reconnecting…", "The connection dropped. Your session is still running.");
    } else if (state === "ended" || state === "failed") {
      // Never leave the last frame up: it would look like the simulation froze.
      this.root.classList.add("no-picture");
      this.video.srcObject = null;
      if (this.input) this.input.detach();
      const session = problem && problem.session;
      const message = state === "ended" && session
        ? describeSessionEnd(session)
        : describeConnectionProblem(problem?.kind || "lost", problem?.detail || null);
      this.dispatchEvent(new CustomEvent("over", { detail: { message, session: session || null, state } }));
    }
  }

  /**
   * @param {string | null} title
   * @param {string} [text]
   */
  setMessage(title, text = "") {
    this.message.hidden = !title;
    if (!title) return;
    $("[data-field=title]", this.message).textContent = title;
    $("[data-field=advice]", this.message).textContent = text;
  }

  showHintOnce() {
    if (this.shownHint) return;
    this.shownHint = true;
    this.hint.classList.remove("gone");
    this.hintTimer = window.setTimeout(() => this.hint.classList.add("gone"), HINT_MS);
  }

  onPointerActivity() {
    this.root.classList.remove("idle");
    clearTimeout(this.idleTimer);
    this.idleTimer = window.setTimeout(() => this.root.classList.add("idle"), IDLE_MS);
  }

  refreshOverlay() {
    if (!this.overlay.visible) return;
    const latest = this.frames.latest;
    this.overlay.update({
      figures: this.figures,
      m2p: this.latency.summary(performance.now()),
      lastM2p: this.latency.last,
      server: latest ? latest.server : null,
      targetFps: this.hello?.fps ?? this.targetFps,
      reprojectionDeg: this.reprojectionSource ? this.reprojectionSource() : null,
    });
  }

  /** Everything worth knowing about the stream now: for support, and for the tests. */
  report() {
    const f = this.figures;
    return {
      state: this.stream ? this.stream.state : "closed",
      connections: this.stream ? this.stream.connections : 0,
      framesDecoded: this.stream?.lastSnapshot?.framesDecoded ?? 0,
      fps: f ? f.fps : 0,
      width: f ? f.width : 0,
      height: f ? f.height : 0,
      codec: f ? f.codec : null,
      videoWidth: this.video.videoWidth,
      videoHeight: this.video.videoHeight,
      hello: this.hello,
      lastFrame: this.frames.latest,
      seq: this.seq,
      m2p: this.latency.summary(performance.now()),
      lastM2p: this.latency.last,
      scenario: this.scenario,
    };
  }
}
