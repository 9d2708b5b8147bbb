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
 */

/** @typedef {{scenario?: string, client?: "browser" | "headset", width?: number, height?: number, fps?: number, codec?: "h264" | "vp8"}} SessionRequest */

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
    /** @type {Record<string, string>} */
    const headers = { Authorization: `Bearer ${this.token}`, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await this.fetch(this.baseUrl + path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store",
      });
    } catch (error) {
      throw new ApiError(0, String(/** @type {Error} */ (error).message || error));
    }
    if (response.ok) return response.status === 204 ? null : response.json();
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
   * @returns {Promise<{session_id: string, token: string, expires_at: string, whep_url: string}>}
   */
  spectate(id) {
    return this.request("POST", `/v1/sessions/${encodeURIComponent(id)}/spectators`);
  }

  /** @returns {Promise<{name: string, source: string}[]>} */
  scenarios() {
    return this.request("GET", "/v1/scenarios");
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
