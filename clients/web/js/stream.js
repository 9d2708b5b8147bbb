/**
 * One viewer's live connection to a session's stream: a WebRTC peer connection set up
 * over WHEP, its data channels, a stall watchdog and reconnection.
 *
 * Why a watchdog: when a render pod dies, nothing tells the browser. WebRTC media is
 * UDP; ICE consent checks (RFC 7675) take seconds to give up, and until then the
 * `<video>` simply shows its last frame. So we watch the decoded-frame counter: no new
 * frame for STALL_MS means "stalled" (the page dims the picture and says so), and the
 * control plane is asked whether the session still exists. If it does, we renegotiate
 * with back-off; if it ended or failed, we stop and say why.
 *
 * Events (CustomEvent.detail):
 *   "state"  {state, previous, problem?}  connecting → live ⇄ stalled → reconnecting → live,
 *            or closed (we stopped) / ended (the session is over) / failed (gave up)
 *   "track"  {stream}      a new MediaStream (after every (re)connection)
 *   "hello"  {hello}       the streamer's hello on the frames channel
 *   "frame"  {frame}       one frame record (docs/protocol.md, `frame`)
 *   "scenario" {scenario}  the running scenario's caption, pause and outcome changed
 *   "stats"  {snapshot}    cumulative inbound counters, every WATCH_MS (stats.js)
 *   "open"   {label}       a data channel opened (after every (re)connection)
 */

import { CHANNELS, encode, parseServerMessage } from "./protocol.js";
import { snapshot } from "./stats.js";
import { negotiate, preferCodec, teardown, WhepError } from "./whep.js";

export const WATCH_MS = 500;
/** No decoded frame for this long: the picture is stale, say so. */
export const STALL_MS = 1500;
/** Stalled this long (or ICE failed): tear down and renegotiate. */
export const RECONNECT_AFTER_MS = 4000;
/** A fresh connection must decode its first frame within this. */
export const FIRST_FRAME_TIMEOUT_MS = 15000;
/** Reconnection attempts, and the pause before each (ms). */
export const BACKOFF_MS = [250, 1000, 2000, 4000, 8000, 8000];
/** An offer left unanswered this long is abandoned (a hung server must not hang us). */
export const OFFER_TIMEOUT_MS = 10000;
/** Unreliable channels still queue under congestion: past this, drop (a newer pose follows). */
const MAX_BUFFERED_BYTES = 16 * 1024;

/**
 * @typedef {object} Endpoint  where and how to signal, fetched anew for every attempt
 *   (session tokens expire; the orchestrator issues fresh ones)
 * @property {string} url WHEP endpoint
 * @property {string | null} token bearer token for it
 * @property {import("./api.js").IceServer[]} [iceServers] the ICE servers the orchestrator
 *   handed out with this token (TURN credentials expire, so they come fresh each time)
 */

/**
 * @typedef {object} SessionCheck  what the control plane says about the session
 * @property {boolean} alive false once it ended or failed
 * @property {any} [session] the session as the API returned it
 */

/**
 * @typedef {object} StreamOptions
 * @property {() => Promise<Endpoint>} endpoint
 * @property {boolean} drives whether this viewer sends input (creates `input`/`events`)
 * @property {"h264" | "vp8"} [codec]
 * @property {RTCIceServer[]} [iceServers] used when the endpoint names none; none by
 *   default: sites may be air-gapped, and an empty list stops browsers from contacting
 *   any public STUN server
 * @property {boolean} [relayOnly] W3C `iceTransportPolicy: "relay"`: media only through
 *   TURN (support diagnostics: proves the TURN path works from where the user sits)
 * @property {() => Promise<SessionCheck>} [checkSession]
 */

/**
 * ICE gathering ended without one candidate. Without trickle ICE (aiortc answers once,
 * FIELD-NOTES trap 6) such an offer can never connect, so it is not sent. Under the
 * relay-only policy this means the TURN server refused or could not be reached.
 */
export class NoCandidatesError extends Error {
  /** @param {string} detail */
  constructor(detail) {
    super(detail);
    this.name = "NoCandidatesError";
    this.detail = detail;
  }
}

export class StreamConnection extends EventTarget {
  /** @param {StreamOptions} options */
  constructor(options) {
    super();
    this.options = { codec: /** @type {"h264"} */ ("h264"), iceServers: [], ...options };
    /** @type {string} */
    this.state = "idle";
    /** @type {RTCPeerConnection | null} */
    this.pc = null;
    /** @type {Record<string, RTCDataChannel>} */
    this.channels = {};
    /** @type {string | null} WHEP session resource of the current connection */
    this.resource = null;
    /** @type {string | null} token used for it (DELETE needs the same) */
    this.resourceToken = null;
    /** How many peer connections were negotiated (1 + reconnections). */
    this.connections = 0;
    /** @type {import("./stats.js").Snapshot | null} */
    this.lastSnapshot = null;
    this.lastProgressAt = 0;
    this.connectedAt = 0;
    this.generation = 0;
    /** @type {ReturnType<typeof setInterval> | null} */
    this.timer = null;
    this.checking = false;
    this.connecting = false;
  }

  /** Connects; resolves once the offer is answered (media may take a moment more). */
  async start() {
    this.timer = setInterval(() => void this.watch(), WATCH_MS);
    await this.connectWithRetries();
  }

  /**
   * Sends a protocol message on `input` or `events`; false if it could not go now.
   * @param {"input" | "events"} label
   * @param {object} message
   */
  send(label, message) {
    const channel = this.channels[label];
    if (!channel || channel.readyState !== "open") return false;
    if (label === "input" && channel.bufferedAmount > MAX_BUFFERED_BYTES) return false;
    channel.send(encode(message));
    return true;
  }

  /**
   * Ends playback: WHEP DELETE, close the connection. No reconnection after this.
   * @param {{keepalive?: boolean, state?: string, problem?: object}} [options]
   */
  async stop(options = {}) {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.generation++;
    const { resource, resourceToken } = this;
    this.closePeer();
    this.setState(options.state || "closed", options.problem);
    if (resource) await teardown(resource, resourceToken, { keepalive: options.keepalive });
  }

  // ------------------------------------------------------------------ internals

  /** @param {string} state @param {object} [problem] */
  setState(state, problem) {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, previous, problem } }));
  }

  get finished() {
    return ["closed", "ended", "failed"].includes(this.state);
  }

  async connectWithRetries() {
    this.connecting = true;
    try {
      await this.connectAttempts(++this.generation);
    } finally {
      this.connecting = false;
    }
  }

  /** @param {number} generation */
  async connectAttempts(generation) {
    /** @type {any} */
    let lastError = null;
    for (let attempt = 0; attempt <= BACKOFF_MS.length; attempt++) {
      if (generation !== this.generation) return;
      if (attempt > 0) {
        await sleep(BACKOFF_MS[attempt - 1]);
        if (generation !== this.generation) return;
        if (await this.sessionIsOver()) return;
      }
      try {
        await this.connectOnce(generation);
        return;
      } catch (error) {
        lastError = error;
        // No candidate twice, the second time with fresh credentials: retrying cannot help.
        if (error instanceof NoCandidatesError && attempt > 0) break;
        // 4xx other than "not ready yet" (409) and rate limits will not get better by retrying.
        const status = error instanceof WhepError ? error.status : 0;
        if (status >= 400 && status < 500 && status !== 409 && status !== 429 && status !== 408) break;
      }
    }
    if (generation !== this.generation) return;
    if (await this.sessionIsOver()) return;
    await this.stop({ state: "failed", problem: { kind: problemKind(lastError, this.options), detail: String(lastError?.detail || lastError) } });
  }

  /** @param {number} generation */
  async connectOnce(generation) {
    this.setState(this.connections === 0 ? "connecting" : "reconnecting");
    const endpoint = await this.options.endpoint();
    const pc = new RTCPeerConnection(rtcConfiguration(endpoint, this.options));
    const iceErrors = collectIceErrors(pc);
    const transceiver = pc.addTransceiver("video", { direction: "recvonly" });
    preferCodec(transceiver, this.options.codec || "h264");
    lowestPlayoutDelay(transceiver.receiver);
    /** @type {Record<string, RTCDataChannel>} */
    const channels = {};
    const labels = this.options.drives ? /** @type {const} */ (["input", "events", "frames"]) : /** @type {const} */ (["frames"]);
    for (const label of labels) channels[label] = pc.createDataChannel(label, CHANNELS[label]);
    channels.frames.onmessage = (event) => this.onFramesMessage(event.data);
    for (const [label, channel] of Object.entries(channels)) {
      channel.addEventListener("open", () => this.dispatchEvent(new CustomEvent("open", { detail: { label } })));
    }
    pc.ontrack = (event) => {
      if (generation !== this.generation) return; // an attempt abandoned by stop()
      lowestPlayoutDelay(event.receiver);
      const stream = event.streams[0] || new MediaStream([event.track]);
      this.dispatchEvent(new CustomEvent("track", { detail: { stream } }));
    };
    pc.onconnectionstatechange = () => {
      if (pc === this.pc && pc.connectionState === "failed") void this.reconnect("ice_failed");
    };
    const abort = new AbortController();
    const timeout = setTimeout(() => abort.abort(), OFFER_TIMEOUT_MS);
    let resource;
    try {
      resource = await negotiate(pc, endpoint.url, endpoint.token, {
        signal: abort.signal, checkOffer: (offered) => requireCandidates(offered, iceErrors),
      });
    } catch (error) {
      pc.close();
      throw abort.signal.aborted ? new WhepError(0, "the WHEP endpoint did not answer in time") : error;
    } finally {
      clearTimeout(timeout);
    }
    if (generation !== this.generation) {
      pc.close();
      void teardown(resource, endpoint.token);
      return;
    }
    this.closePeer();
    this.pc = pc;
    this.channels = channels;
    this.resource = resource;
    this.resourceToken = endpoint.token;
    this.connections++;
    this.lastSnapshot = null;
    this.connectedAt = performance.now();
    this.lastProgressAt = 0;
  }

  closePeer() {
    const pc = this.pc;
    this.pc = null;
    this.channels = {};
    this.resource = null;
    if (pc) {
      pc.ontrack = null;
      pc.onconnectionstatechange = null;
      pc.close();
    }
  }

  /** @param {string} why */
  async reconnect(why) {
    if (this.finished || this.connecting) return;
    const { resource, resourceToken } = this;
    this.closePeer();
    this.setState("reconnecting", { kind: "lost", detail: why });
    if (resource) void teardown(resource, resourceToken);
    await this.connectWithRetries();
  }

  /** @param {string | ArrayBuffer} data */
  onFramesMessage(data) {
    const message = parseServerMessage(data);
    if (!message) return;
    if (message.type === "hello") this.dispatchEvent(new CustomEvent("hello", { detail: { hello: message } }));
    else if (message.type === "scenario") this.dispatchEvent(new CustomEvent("scenario", { detail: { scenario: message } }));
    else this.dispatchEvent(new CustomEvent("frame", { detail: { frame: message } }));
  }

  /** @returns {Promise<boolean>} true (and the state is "ended") if the session is over */
  async sessionIsOver() {
    if (!this.options.checkSession) return false;
    try {
      const check = await this.options.checkSession();
      if (check.alive) return false;
      await this.stop({ state: "ended", problem: { kind: "ended", session: check.session } });
      return true;
    } catch {
      return false; // the control plane is unreachable too: keep trying the stream
    }
  }

  /** Every WATCH_MS: progress, stall detection, stats. */
  async watch() {
    const pc = this.pc;
    if (!pc || this.finished) return;
    let snap = null;
    try {
      snap = snapshot((await pc.getStats()).values());
    } catch {
      return;
    }
    if (pc !== this.pc) return;
    const now = performance.now();
    const decoded = snap ? snap.framesDecoded : 0;
    if (snap) this.dispatchEvent(new CustomEvent("stats", { detail: { snapshot: snap } }));
    const progressed = decoded > (this.lastSnapshot ? this.lastSnapshot.framesDecoded : 0);
    this.lastSnapshot = snap;
    if (progressed) {
      this.lastProgressAt = now;
      this.setState("live");
      return;
    }
    if (this.lastProgressAt === 0) {
      // Never had a frame on this connection.
      if (now - this.connectedAt > FIRST_FRAME_TIMEOUT_MS) {
        if (await this.sessionIsOver()) return;
        const kind = this.connections > 1 ? "lost" : "no_media";
        await this.stop({ state: "failed", problem: { kind, detail: `no video; ICE ${pc.iceConnectionState}` } });
      }
      return;
    }
    const quiet = now - this.lastProgressAt;
    if (quiet > STALL_MS && this.state === "live") {
      this.setState("stalled", { kind: "lost", detail: `no video for ${Math.round(quiet)} ms` });
      void this.checkWhileStalled();
    }
    if (quiet > RECONNECT_AFTER_MS) void this.reconnect(`no video for ${Math.round(quiet)} ms`);
  }

  /** Asks the control plane once per stall, so a dead session is reported in ~2 s. */
  async checkWhileStalled() {
    if (this.checking) return;
    this.checking = true;
    try {
      await this.sessionIsOver();
    } finally {
      this.checking = false;
    }
  }
}

/**
 * The peer connection's configuration (W3C WebRTC §4.2.1): the endpoint's ICE servers
 * (else the options'), and the relay-only policy when asked for. Null members are
 * dropped: WebIDL would turn a null username into the string "null".
 * @param {Endpoint} endpoint
 * @param {StreamOptions} options
 * @returns {RTCConfiguration}
 */
export function rtcConfiguration(endpoint, options) {
  const servers = endpoint.iceServers ?? options.iceServers ?? [];
  const iceServers = servers.map((server) => {
    /** @type {RTCIceServer} */
    const out = { urls: [...server.urls] };
    if (server.username != null) out.username = server.username;
    if (server.credential != null) out.credential = server.credential;
    return out;
  });
  return { iceServers, iceTransportPolicy: options.relayOnly ? "relay" : "all" };
}

/**
 * TURN and STUN errors seen while gathering (W3C WebRTC §4.8.2 RTCPeerConnectionIceErrorEvent:
 * e.g. 401 when a TURN server refuses expired or wrong credentials), for the failure detail.
 * @param {RTCPeerConnection} pc
 * @returns {string[]}
 */
function collectIceErrors(pc) {
  /** @type {string[]} */
  const errors = [];
  pc.addEventListener("icecandidateerror", (event) => {
    const error = /** @type {RTCPeerConnectionIceErrorEvent} */ (event);
    errors.push(`${error.url} answered ${error.errorCode} ${error.errorText}`.trim());
  });
  return errors;
}

/**
 * Refuses an offer with no ICE candidate (see NoCandidatesError).
 * @param {RTCPeerConnection} pc
 * @param {string[]} iceErrors
 */
function requireCandidates(pc, iceErrors) {
  if (/^a=candidate:/m.test(pc.localDescription?.sdp || "")) return;
  const why = iceErrors.length ? `: ${[...new Set(iceErrors)].join("; ")}` : "";
  throw new NoCandidatesError(`no ICE candidate was gathered${why}`);
}

/**
 * What kind of failure ended the connection attempts, for the page's wording.
 * @param {any} error
 * @param {StreamOptions} options
 * @returns {"no_media" | "lost" | "rejected" | "relay_refused"}
 */
export function problemKind(error, options) {
  if (error instanceof NoCandidatesError) return options.relayOnly ? "relay_refused" : "no_media";
  const status = error instanceof WhepError ? error.status : 0;
  return status >= 400 && status < 500 ? "rejected" : "lost";
}

/**
 * `?relay=1` on a page's address: force relay-only ICE, for support diagnostics.
 * @param {string} search `location.search`
 */
export function relayRequested(search) {
  const value = new URLSearchParams(search).get("relay");
  return value === "1" || value === "true";
}

/**
 * Asks for the smallest jitter buffer the browser allows (WebRTC Extensions,
 * RTCRtpReceiver.jitterBufferTarget; Chrome's older `playoutDelayHint`): latency is
 * the product, and a loopback or LAN link rarely needs a deep buffer.
 * @param {RTCRtpReceiver} receiver
 */
export function lowestPlayoutDelay(receiver) {
  const r = /** @type {any} */ (receiver);
  try {
    if ("jitterBufferTarget" in r) r.jitterBufferTarget = 0;
    if ("playoutDelayHint" in r) r.playoutDelayHint = 0;
  } catch {
    // an older browser that rejects 0: its default is the best it can do
  }
}

/** @param {number} ms */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
