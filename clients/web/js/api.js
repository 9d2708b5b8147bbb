/**
 * The orchestrator's HTTP API under /v1 (docs/orchestrator.md; OpenAPI at /docs).
 *
 * Every call carries the signed-in user's bearer token (RFC 6750). Errors arrive as
 * RFC 9457 problem documents; they become an `ApiError` holding the status, the
 * problem type and the server's detail, which wording.js turns into plain words.
 */

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status; 0 when the server could not be reached
   * @param {string} detail
   * @param {{problemType?: string, retryAfterS?: number | null}} [extra]
   */
  constructor(status, detail, extra = {}) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.problemType = extra.problemType || "";
    this.retryAfterS = extra.retryAfterS ?? null;
  }
}

/**
 * @typedef {object} Session  orchestrator/api/schemas.py: SessionOut
 * @property {string} id
 * @property {"pending"|"starting"|"ready"|"active"|"ending"|"ended"|"failed"} state
 * @property {string | null} reason
 * @property {string | null} detail
 * @property {string} owner
 * @property {string} scenario
 * @property {"browser" | "headset"} client
 * @property {number} width
 * @property {number} height
 * @property {number} fps
 * @property {string} codec
 * @property {string} created_at
 * @property {string | null} ready_at
 * @property {string | null} first_frame_at
 * @property {number | null} queue_position
 * @property {number} viewers
 * @property {string} whep_url
 * @property {string | null} token session-scoped signalling token (owner only)
 * @property {IceServer[]} [ice_servers] for the connection to `whep_url`; given with `token`
 */

/**
 * @typedef {object} IceServer  orchestrator/api/schemas.py: IceServerOut (an RTCIceServer;
 *   TURN entries carry credentials minted for this session that expire by themselves)
 * @property {string[]} urls
 * @property {string | null} [username]
 * @property {string | null} [credential]
 */

/** @typedef {{scenario?: string, client?: "browser" | "headset", width?: number, height?: number, fps?: number, codec?: "h264" | "vp8"}} SessionRequest */

/**
 * @typedef {object} CatalogueEntry  one scenario a session can ask for (`GET /v1/scenarios`)
 * @property {string} name
 * @property {string} source
 * @property {string} title
 * @property {string | null} [description]
 * @property {string | null} [domain]
 * @property {number | null} [expected_duration_min]
 */

/**
 * @typedef {object} ScenarioDocument  the parts of a scenario document (ixstream/scenario/model.py)
 *   the pages read; the API returns all of it
 * @property {string} id
 * @property {string} title
 * @property {string | null} [summary]
 * @property {string[]} objectives
 * @property {{position: number[], yaw_deg: number}} start
 * @property {{id: string, label: string, description?: string | null}[]} instructor_events
 * @property {{id: string, when: {kind: string, zone?: {center: number[], radius_m: number}}, then: object[], once?: boolean}[]} triggers
 */

/**
 * @typedef {object} ScenarioSnapshot  a running scenario (the streamer's snapshot)
 * @property {string} scenario
 * @property {string} title
 * @property {boolean} started
 * @property {boolean} paused
 * @property {number} t scenario time, seconds
 * @property {string | null} outcome
 * @property {string | null} message
 * @property {string[]} fired trigger ids, in the order they fired
 * @property {string | null} caption
 * @property {{id: string, label: string}[]} [instructor_events]
 * @property {number} [seq] the last after-action log entry it includes: the higher, the newer
 */

/**
 * @typedef {{command: "event", event: string} | {command: "pause" | "resume"} |
 *   {command: "end", outcome: "success" | "partial" | "failure", message: string | null}} ScenarioCommand
 */

export const TERMINAL_STATES = Object.freeze(["ended", "failed"]);

export class OrchestratorApi {
  /**
   * @param {string} token API bearer token
   * @param {{baseUrl?: string, fetch?: typeof fetch}} [options]
   */
  constructor(token, options = {}) {
    this.token = token;
    this.baseUrl = options.baseUrl || "";
    this.fetch = options.fetch || globalThis.fetch.bind(globalThis);
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   * @returns {Promise<any>}
   */
  async request(method, path, body) {
    const response = await this.send(method, path, body, "application/json");
    return response.status === 204 ? null : response.json();
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {unknown} body
   * @param {string} accept
   * @returns {Promise<Response>} a 2xx response; anything else is thrown as ApiError
   */
  async send(method, path, body, accept) {
    /** @type {Record<string, string>} */
    const headers = { Authorization: `Bearer ${this.token}`, Accept: accept };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await this.fetch(this.baseUrl + path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store",
      });
    } catch (error) {
      throw new ApiError(0, String(/** @type {Error} */ (error).message || error));
    }
    if (response.ok) return response;
    throw await problemFrom(response);
  }

  /**
   * Asks for a session. With `wait`, a full platform queues it (`pending`, with a
   * `queue_position`) instead of refusing with 429.
   * @param {SessionRequest} request
   * @param {{wait?: boolean}} [options]
   * @returns {Promise<Session>}
   */
  createSession(request, { wait = true } = {}) {
    return this.request("POST", `/v1/sessions?wait=${wait}`, request);
  }

  /** @param {string} id @returns {Promise<Session>} */
  getSession(id) {
    return this.request("GET", `/v1/sessions/${encodeURIComponent(id)}`);
  }

  /**
   * @param {string[]} [states]
   * @returns {Promise<{items: Session[], count: number}>}
   */
  listSessions(states = []) {
    const query = states.map((s) => `state=${encodeURIComponent(s)}`).join("&");
    return this.request("GET", `/v1/sessions${query ? `?${query}` : ""}`);
  }

  /** @param {string} id @returns {Promise<Session>} */
  endSession(id) {
    return this.request("DELETE", `/v1/sessions/${encodeURIComponent(id)}`);
  }

  /**
   * A view-only token for someone else's session.
   * @param {string} id
   * @returns {Promise<{session_id: string, token: string, expires_at: string, whep_url: string, ice_servers?: IceServer[]}>}
   */
  spectate(id) {
    return this.request("POST", `/v1/sessions/${encodeURIComponent(id)}/spectators`);
  }

  /** @returns {Promise<CatalogueEntry[]>} */
  scenarios() {
    return this.request("GET", "/v1/scenarios");
  }

  /**
   * A scenario document from the library (404 for built-ins and bare scenes).
   * @param {string} name
   * @returns {Promise<ScenarioDocument>}
   */
  scenario(name) {
    return this.request("GET", `/v1/scenarios/${encodeURIComponent(name)}`);
  }

  /**
   * The running scenario of a session, as its streamer reports it now.
   * @param {string} id
   * @returns {Promise<ScenarioSnapshot>}
   */
  scenarioSnapshot(id) {
    return this.request("GET", `/v1/sessions/${encodeURIComponent(id)}/scenario`);
  }

  /**
   * Instructors and operators: fire an instructor event, pause, resume or end the
   * scenario (`end` also ends the session).
   * @param {string} id
   * @param {ScenarioCommand} command
   * @returns {Promise<ScenarioSnapshot>}
   */
  scenarioCommand(id, command) {
    return this.request("POST", `/v1/sessions/${encodeURIComponent(id)}/scenario/commands`, command);
  }

  /**
   * Instructors and operators: the session's after-action log, as the JSON lines the
   * server stores (one entry per line; aar.js reads them).
   * @param {string} id
   * @returns {Promise<string>}
   */
  async afterActionLog(id) {
    const response = await this.send("GET", `/v1/sessions/${encodeURIComponent(id)}/aar`, undefined, "application/x-ndjson");
    return response.text();
  }

  /** Operators only. @returns {Promise<{desired: number, ready: number, starting: number, holding: number, free_capacity: number, profile: object}>} */
  pool() {
    return this.request("GET", "/v1/pool");
  }
}

/**
 * @param {Response} response
 * @returns {Promise<ApiError>}
 */
export async function problemFrom(response) {
  let detail = response.statusText || `HTTP ${response.status}`;
  let problemType = "";
  try {
    const body = await response.json();
    if (body && typeof body.detail === "string") detail = body.detail;
    if (body && typeof body.type === "string") problemType = body.type;
  } catch {
    // not a problem document: keep the status text
  }
  const retry = Number.parseInt(response.headers.get("Retry-After") || "", 10);
  return new ApiError(response.status, detail, { problemType, retryAfterS: Number.isFinite(retry) ? retry : null });
}
