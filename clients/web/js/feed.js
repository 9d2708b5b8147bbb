/**
 * The live feed (GET /v1/events, docs/orchestrator.md "Live feed"): what changed,
 * pushed by the orchestrator as server-sent events (WHATWG HTML §9.2), so the pages
 * update at once instead of polling.
 *
 * Why `fetch` and not `EventSource`: an EventSource cannot send `Authorization`, and
 * every other call authenticates with the bearer token. Putting the token in the URL
 * would write it into access logs and browser history; a short-lived single-use ticket
 * would need one more endpoint and one more secret to mint, store and expire. `fetch`
 * sends the header, reads the body as a stream, and the format is simple enough to
 * parse here (`EventStreamParser`, below, follows §9.2.6 line by line).
 *
 * What EventSource would have done, done here: reconnect after a drop (with backoff,
 * starting at the server's `retry:`), sending `Last-Event-ID` so the server replays
 * what was missed. A page gets `onSnapshot` whenever it must (re)load its state: on the
 * first connection, and when the server answers `reset` (the id was too old).
 */

/** @typedef {{type: string, data: string, id: string}} StreamEvent */

/** The most a reconnection waits, however often it failed. */
const MAX_BACKOFF_MS = 30_000;

/**
 * §9.2.6 "Interpreting an event stream": bytes in, dispatched events out. Pure: no I/O.
 */
export class EventStreamParser {
  constructor() {
    this.buffer = "";
    this.type = "";
    /** @type {string[]} */
    this.data = [];
    /** The last event ID buffer: kept across events, as the spec says. */
    this.lastEventId = "";
    /** @type {number | null} the reconnection time the stream asked for, ms */
    this.retryMs = null;
    this.decoder = new TextDecoder();
  }

  /**
   * @param {Uint8Array | string} chunk
   * @returns {StreamEvent[]} the events this chunk completed
   */
  push(chunk) {
    this.buffer += typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true });
    /** @type {StreamEvent[]} */
    const events = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      // A CR at the very end may be the first half of a CRLF: wait for the next chunk.
      if (!match || (match[0] === "\r" && match.index === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  /**
   * @param {string} line
   * @returns {StreamEvent | null}
   */
  line(line) {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null; // a comment: the heartbeat
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.type = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id" && !value.includes("\0")) this.lastEventId = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.retryMs = Number(value);
    return null;
  }

  /** @returns {StreamEvent | null} */
  dispatch() {
    const type = this.type || "message";
    const data = this.data.join("\n");
    const had = this.data.length > 0;
    this.type = "";
    this.data = [];
    return had ? { type, data, id: this.lastEventId } : null;
  }
}

/**
 * @typedef {object} LiveFeedOptions
 * @property {(type: string, data: any) => void} onEvent each event but `ready` and `reset`
 * @property {() => Promise<void> | void} onSnapshot (re)load the page's state
 * @property {(state: "live" | "reconnecting" | "refused", error?: any) => void} [onStatus]
 *   `refused` (401/403) is final; `reconnecting` carries what went wrong, if anything
 * @property {string} [baseUrl]
 * @property {typeof fetch} [fetch]
 */

/** One open feed for one page; `stop()` ends it. */
export class LiveFeed {
  /**
   * @param {string | {token: string}} credentials the API bearer token, or an object
   *   holding it (the page's API client): a token renewed by sign-in is then used on the
   *   next reconnect, and a stream that ended with the old token's expiry resumes.
   * @param {LiveFeedOptions} options
   */
  constructor(credentials, options) {
    this.credentials = typeof credentials === "string" ? { token: credentials } : credentials;
    this.options = options;
    this.fetch = options.fetch || globalThis.fetch.bind(globalThis);
    this.lastEventId = "";
    this.retryMs = 2000;
    this.failures = 0;
    this.stopped = false;
    this.liveSince = 0;
    /** @type {AbortController | null} */
    this.abort = null;
    /** @type {(value: unknown) => void} */
    this.markLive = () => {};
    /** Resolves once the feed is live for the first time (after the first snapshot). */
    this.live = new Promise((resolve) => (this.markLive = resolve));
  }

  start() {
    void this.run();
    return this;
  }

  stop() {
    this.stopped = true;
    this.abort?.abort();
  }

  async run() {
    while (!this.stopped) {
      let waitMs = this.backoff();
      /** @type {any} */
      let failure = null;
      try {
        await this.connect();
        this.failures = 0;
        waitMs = this.retryMs; // the server closed a healthy stream: come back as it asked
      } catch (error) {
        if (this.stopped) return;
        const e = /** @type {any} */ (error);
        if (e.status === 401 || e.status === 403) {
          this.options.onStatus?.("refused", e);
          return;
        }
        if (e.retryAfterS) waitMs = Math.max(waitMs, e.retryAfterS * 1000);
        this.failures += 1;
        failure = e;
      }
      if (this.stopped) return;
      this.options.onStatus?.("reconnecting", failure);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }

  /** Exponential backoff from the server's `retry`, with jitter so pages spread out. */
  backoff() {
    const base = Math.min(MAX_BACKOFF_MS, this.retryMs * 2 ** Math.min(this.failures, 5));
    return Math.round(base * (0.5 + Math.random() / 2));
  }

  async connect() {
    this.abort = new AbortController();
    /** @type {Record<string, string>} */
    const headers = { Authorization: `Bearer ${this.credentials.token}`, Accept: "text/event-stream" };
    const resuming = Boolean(this.lastEventId);
    if (resuming) headers["Last-Event-ID"] = this.lastEventId;
    const response = await this.fetch(`${this.options.baseUrl || ""}/v1/events`, {
      headers, cache: "no-store", signal: this.abort.signal,
    });
    if (!response.ok || !response.body) throw await refusal(response);
    const parser = new EventStreamParser();
    parser.lastEventId = this.lastEventId;
    const reader = response.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      for (const event of parser.push(value)) await this.handle(event, resuming);
      if (parser.retryMs !== null) this.retryMs = parser.retryMs;
      this.lastEventId = parser.lastEventId;
    }
  }

  /**
   * @param {StreamEvent} event
   * @param {boolean} resuming whether this connection sent a Last-Event-ID
   */
  async handle(event, resuming) {
    if (event.type === "ready") {
      if (!resuming) await this.options.onSnapshot();
      this.liveSince = Date.now(); // when this connection was accepted (diagnostics, tests)
      this.options.onStatus?.("live");
      this.markLive(undefined);
      return;
    }
    if (event.type === "reset") {
      await this.options.onSnapshot();
      return;
    }
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return; // not ours to guess at
    }
    this.options.onEvent(event.type, data);
  }
}

/**
 * @param {Response} response
 * @returns {Promise<Error & {status: number, retryAfterS: number | null}>}
 */
async function refusal(response) {
  let detail = `HTTP ${response.status}`;
  try {
    detail = (await response.json()).detail || detail;
  } catch {
    // not a problem document
  }
  const retry = Number(response.headers.get("Retry-After"));
  return Object.assign(new Error(detail), { status: response.status, retryAfterS: retry > 0 ? retry : null });
}

/**
 * Keeps a list of sessions current from `session` events (insert or replace by id). An
 * event older than what the list holds (`updated_at`: a snapshot fetched after it was
 * sent) is ignored.
 * @template {{id: string, updated_at?: string}} T
 * @param {T[]} list
 * @param {T} session
 * @returns {T[]}
 */
export function upsert(list, session) {
  const at = list.findIndex((s) => s.id === session.id);
  if (at < 0) return [...list, session];
  const held = list[at].updated_at;
  if (held && session.updated_at && Date.parse(session.updated_at) < Date.parse(held)) return list;
  const copy = list.slice();
  copy[at] = session;
  return copy;
}
