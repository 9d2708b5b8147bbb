/**
 * WHEP signalling (draft-ietf-wish-whep): one HTTP POST carries our SDP offer, the
 * `201 Created` answer carries the server's SDP and a `Location` naming the session
 * resource; `DELETE` on that resource ends playback.
 *
 * The same code talks to a streamer directly (`/whep`) or through the orchestrator's
 * proxy (`/v1/sessions/{id}/whep`): only the URL and the token differ.
 */

import { problemFrom } from "./api.js";

export class WhepError extends Error {
  /**
   * @param {number} status HTTP status, 0 if the server could not be reached
   * @param {string} detail
   */
  constructor(status, detail) {
    super(detail);
    this.name = "WhepError";
    this.status = status;
    this.detail = detail;
  }
}

/**
 * Waits until every ICE candidate is in the local description. The streamer (aiortc)
 * does not support trickle ICE (FIELD-NOTES trap 6), and WHEP servers without it
 * answer PATCH with 405 (draft-ietf-wish-whep §4.3), so the offer must be complete.
 * @param {RTCPeerConnection} pc
 * @param {number} timeoutMs on a host with unreachable interfaces gathering can hang;
 *   the candidates found by then are enough
 * @returns {Promise<void>}
 */
export function iceGatheringComplete(pc, timeoutMs = 2000) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => pc.iceGatheringState === "complete" && done();
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

/**
 * Puts `codec` first in the transceiver's preferences. Chrome prefers VP8 by default
 * (FIELD-NOTES trap 7); the streamer's cheapest path is H.264. RTX stays allowed so
 * lost packets can be retransmitted.
 * @param {RTCRtpTransceiver} transceiver
 * @param {"h264" | "vp8"} codec
 */
export function preferCodec(transceiver, codec) {
  if (typeof RTCRtpReceiver.getCapabilities !== "function" || !transceiver.setCodecPreferences) return;
  const capabilities = RTCRtpReceiver.getCapabilities("video");
  if (!capabilities) return;
  const mime = `video/${codec}`.toLowerCase();
  const wanted = capabilities.codecs.filter((c) => c.mimeType.toLowerCase() === mime);
  if (wanted.length === 0) return; // not supported here: let negotiation pick
  const rtx = capabilities.codecs.filter((c) => c.mimeType.toLowerCase() === "video/rtx");
  const rest = capabilities.codecs.filter((c) => !wanted.includes(c) && !rtx.includes(c));
  transceiver.setCodecPreferences([...wanted, ...rtx, ...rest]);
}

/**
 * Sends the offer and applies the answer.
 * @param {RTCPeerConnection} pc with its transceivers and data channels already added
 * @param {string} url the WHEP endpoint
 * @param {string | null} token bearer token for the endpoint
 * @param {{fetch?: typeof fetch, signal?: AbortSignal, checkOffer?: (pc: RTCPeerConnection) => void}} [options]
 *   `checkOffer` may refuse the gathered offer (by throwing) before anything is sent
 * @returns {Promise<string>} the absolute URL of the WHEP session resource (for DELETE)
 */
export async function negotiate(pc, url, token, options = {}) {
  const doFetch = options.fetch || globalThis.fetch.bind(globalThis);
  await pc.setLocalDescription(await pc.createOffer());
  await iceGatheringComplete(pc);
  if (options.checkOffer) options.checkOffer(pc);
  /** @type {Record<string, string>} */
  const headers = { "Content-Type": "application/sdp" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await doFetch(url, {
      method: "POST", headers, body: pc.localDescription?.sdp, signal: options.signal, cache: "no-store",
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new WhepError(0, `the WHEP endpoint could not be reached: ${error}`);
  }
  if (response.status !== 201) {
    const problem = await problemFrom(response);
    throw new WhepError(response.status, problem.detail);
  }
  const location = response.headers.get("Location");
  if (!location) throw new WhepError(502, "the WHEP answer has no Location header");
  await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
  return new URL(location, new URL(url, globalThis.location?.href)).toString();
}

/**
 * Ends playback (WHEP §4.3: DELETE on the session resource). Best effort: the server
 * also releases a viewer whose connection goes away, so a failure here is not an error.
 * @param {string} resourceUrl
 * @param {string | null} token
 * @param {{keepalive?: boolean, fetch?: typeof fetch}} [options] keepalive lets the
 *   request outlive a closing page (Fetch standard, "keepalive")
 * @returns {Promise<boolean>} whether the server confirmed
 */
export async function teardown(resourceUrl, token, options = {}) {
  const doFetch = options.fetch || globalThis.fetch.bind(globalThis);
  try {
    const response = await doFetch(resourceUrl, {
      method: "DELETE",
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      keepalive: Boolean(options.keepalive),
    });
    return response.ok;
  } catch {
    return false;
  }
}
