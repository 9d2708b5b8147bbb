/**
 * What to tell a trainer when something goes wrong, in plain words.
 *
 * The orchestrator names failures precisely for engineers (`streamer_exited`, RFC 9457
 * problem types such as `urn:ixstream:problem:capacity-exhausted`). A trainer in a
 * training room needs to know three things: what happened, whether it was their fault
 * (it almost never is), and what to do next. Technical detail stays available behind a
 * "details" disclosure for the person who gets the support call. Pure, no DOM.
 */

/**
 * @typedef {object} Message
 * @property {string} title one short sentence: what happened
 * @property {string} advice what to do now
 * @property {string | null} [detail] the technical detail, for support
 * @property {boolean} [retry] whether trying again can help
 */

/** Why a session failed (orchestrator/sessions/states.py: FailureReason). */
const FAILED = {
  spawn_failed: {
    title: "The training station could not be started.",
    advice: "Try again in a minute. If it keeps happening, contact your platform operator.",
    retry: true,
  },
  start_timeout: {
    title: "The training station took too long to start.",
    advice: "The platform may be busy. Try again in a minute.",
    retry: true,
  },
  streamer_exited: {
    title: "The simulation stopped unexpectedly.",
    advice: "This was not caused by anything you did. Start a new session to continue training.",
    retry: true,
  },
  streamer_unresponsive: {
    title: "The simulation stopped responding.",
    advice: "This was not caused by anything you did. Start a new session to continue training.",
    retry: true,
  },
  lost_on_restart: {
    title: "The session was lost when the platform restarted.",
    advice: "Start a new session to continue training.",
    retry: true,
  },
};

/** Why a session ended normally (EndReason). */
const ENDED = {
  deleted: { title: "The session has ended.", advice: "You can start a new session at any time." },
  idle_timeout: {
    title: "The session ended because nobody was connected for a while.",
    advice: "Start a new session when you are ready to continue.",
  },
  scenario_ended: {
    title: "The scenario has ended.",
    advice: "Your instructor will go through it with you.",
  },
  max_duration: {
    title: "The session reached its time limit.",
    advice: "Start a new session to continue training.",
  },
  orchestrator_shutdown: {
    title: "The platform was shut down for maintenance.",
    advice: "Try again later, or ask your platform operator when it will be back.",
  },
};

/**
 * A session that ended or failed, as the API reports it (`state`, `reason`, `detail`).
 * @param {{state: string, reason?: string | null, detail?: string | null}} session
 * @returns {Message}
 */
export function describeSessionEnd(session) {
  const reason = session.reason || "";
  if (session.state === "failed") {
    const known = FAILED[/** @type {keyof FAILED} */ (reason)];
    return {
      ...(known || {
        title: "The session stopped because of a problem on the platform.",
        advice: "Try again. If it keeps happening, contact your platform operator.",
        retry: true,
      }),
      detail: [reason, session.detail].filter(Boolean).join(": ") || null,
    };
  }
  const known = ENDED[/** @type {keyof ENDED} */ (reason)];
  return { ...(known || ENDED.deleted), detail: reason || null, retry: true };
}

/**
 * An error from the orchestrator API (see api.js: ApiError) or from the network.
 * @param {{status?: number, problemType?: string, detail?: string, retryAfterS?: number | null} | Error} error
 * @returns {Message}
 */
export function describeApiError(error) {
  const e = /** @type {any} */ (error);
  const status = typeof e.status === "number" ? e.status : 0;
  const kind = typeof e.problemType === "string" ? e.problemType.split(":").pop() : "";
  const detail = e.detail || e.message || null;
  if (status === 0) {
    return {
      title: "The IX Stream server cannot be reached.",
      advice: "Check this device's network connection, then try again.",
      detail, retry: true,
    };
  }
  if (status === 401) {
    return { title: "Your sign-in has expired.", advice: "Sign in again to continue.", detail };
  }
  if (status === 403) {
    return {
      title: "Your account is not allowed to do this.",
      advice: "Ask your platform operator for access.",
      detail,
    };
  }
  if (kind === "unknown-scenario") {
    return { title: "That scenario is not available.", advice: "Pick another scenario from the list.", detail };
  }
  if (kind === "queue-full") {
    return {
      title: "Every training station is busy and the waiting line is full.",
      advice: `Try again in ${waitWords(e.retryAfterS)}.`,
      detail, retry: true,
    };
  }
  if (status === 429) {
    return {
      title: "Every training station is busy.",
      advice: `Try again in ${waitWords(e.retryAfterS)}.`,
      detail, retry: true,
    };
  }
  if (status === 404 || status === 410) {
    return { title: "This session no longer exists.", advice: "Start a new session from the home page.", detail };
  }
  if (status >= 500) {
    return {
      title: "The platform cannot start sessions right now.",
      advice: "Try again in a minute. If it keeps happening, contact your platform operator.",
      detail, retry: true,
    };
  }
  return { title: "Something went wrong.", advice: "Try again.", detail, retry: true };
}

/**
 * The video connection itself (WebRTC) could not be made or was lost for good.
 * @param {"no_media" | "lost" | "rejected" | "relay_refused"} kind
 * @param {string | null} [detail]
 * @returns {Message}
 */
export function describeConnectionProblem(kind, detail = null) {
  if (kind === "no_media") {
    return {
      title: "The video connection could not be established.",
      advice:
        "This network may block the streaming traffic. Ask your IT team to allow WebRTC " +
        "(UDP) to the IX Stream servers, or to configure a relay (TURN) server.",
      detail, retry: true,
    };
  }
  if (kind === "relay_refused") {
    return {
      title: "The relay server gave this connection no route.",
      advice:
        "The TURN relay did not accept this session's credentials (they may have expired) " +
        "or could not be reached. Open the session again; if it happens again, tell your IT team.",
      detail, retry: true,
    };
  }
  if (kind === "rejected") {
    return {
      title: "The training station refused the video connection.",
      advice: "Go back and open the session again.",
      detail, retry: true,
    };
  }
  return {
    title: "The connection to the training station was lost.",
    advice: "Check this device's network connection, then reconnect.",
    detail, retry: true,
  };
}

/** @param {number | null | undefined} seconds */
function waitWords(seconds) {
  if (!seconds || seconds < 60) return "a few seconds";
  const minutes = Math.round(seconds / 60);
  return minutes === 1 ? "a minute" : `${minutes} minutes`;
}

/**
 * The queue, for someone waiting.
 * @param {number | null | undefined} position 1-based
 * @returns {string}
 */
export function queueWords(position) {
  if (!position) return "Waiting for a free training station…";
  if (position === 1) return "You are next in line for a training station.";
  return `You are number ${position} in line for a training station.`;
}

/** The banner a trainee sees while the instructor holds the scenario. */
export const PAUSED_WORDS = "Paused by the instructor";

/** How a scenario ended (the scenario format's `end` outcomes). */
const OUTCOMES = {
  success: { title: "Scenario complete: well done.", advice: "You met the scenario's goal." },
  partial: { title: "Scenario complete, with points to go over.", advice: "Your instructor will go through it with you." },
  failure: { title: "Scenario over: the goal was not met.", advice: "Your instructor will go through it with you." },
};

/**
 * A scenario's outcome for the trainee: the outcome as a title, the scenario's own
 * message (or a general line) as the advice.
 * @param {string} outcome success | partial | failure
 * @param {string | null} [message] the scenario's or the instructor's explanation
 * @returns {Message}
 */
export function describeOutcome(outcome, message = null) {
  const known = OUTCOMES[/** @type {keyof OUTCOMES} */ (outcome)];
  const words = known || { title: "The scenario has ended.", advice: "Your instructor will go through it with you." };
  return { title: words.title, advice: message || words.advice, detail: known ? null : outcome };
}

/** The outcomes an instructor can end a scenario with, as the console offers them. */
export const OUTCOME_LABELS = Object.freeze({ success: "Success", partial: "Partial", failure: "Failure" });
