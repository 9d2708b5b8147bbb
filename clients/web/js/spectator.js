/**
 * Watching someone else's session: the stage options for a view-only viewer, shared by
 * the observer view (watch.js) and the instructor console (instruct.js).
 *
 * A spectator asks the orchestrator for a view-only token before every connection
 * attempt (tokens are short-lived, and a reconnection may come much later) and never
 * opens the input channels.
 */

import { TERMINAL_STATES } from "./api.js";

/** @typedef {import("./api.js").OrchestratorApi} OrchestratorApi */
/** @typedef {import("./api.js").Session} Session */

/**
 * Whether a session is over for its viewers (ending counts: its streamer is going).
 * @param {Session} session
 */
export function sessionIsOver(session) {
  return TERMINAL_STATES.includes(session.state) || session.state === "ending";
}

/**
 * @param {OrchestratorApi} api
 * @param {Session} session
 * @param {string} title shown in the stage's top bar
 * @returns {import("./stage.js").StageOptions}
 */
export function spectatorStageOptions(api, session, title) {
  return {
    title,
    targetFps: session.fps,
    codec: session.codec === "vp8" ? "vp8" : "h264",
    drives: false,
    endpoint: async () => {
      const joined = await api.spectate(session.id);
      return { url: joined.whep_url, token: joined.token, iceServers: joined.ice_servers || [] };
    },
    checkSession: async () => {
      const current = await api.getSession(session.id);
      return { alive: !sessionIsOver(current), session: current };
    },
  };
}

/**
 * The stage buttons every viewer page has: Stats and Full screen.
 * @param {string} action the button's data-action
 * @param {HTMLElement} button
 * @param {import("./stage.js").Stage | null} stage
 * @param {HTMLElement} root what goes full screen
 * @returns {Promise<boolean>} whether the action was one of these
 */
export async function commonStageAction(action, button, stage, root) {
  if (action === "stats") {
    if (!stage) return true;
    const on = stage.overlay.toggle();
    button.setAttribute("aria-pressed", String(on));
    stage.refreshOverlay();
    return true;
  }
  if (action === "fullscreen") {
    if (document.fullscreenElement) await document.exitFullscreen().catch(() => {});
    else await root.requestFullscreen().catch(() => {});
    return true;
  }
  return false;
}

/**
 * Wires a viewer page's stage: each `[data-action]` button calls `onAction`, and
 * leaving the page closes the stream (keepalive: the DELETE outlives the page).
 * @param {HTMLElement} root the stage
 * @param {(action: string, button: HTMLElement) => Promise<void>} onAction
 * @param {() => import("./stage.js").Stage | null} currentStage
 */
export function wireStage(root, onAction, currentStage) {
  for (const button of root.querySelectorAll("[data-action]")) {
    const element = /** @type {HTMLElement} */ (button);
    element.addEventListener("click", () => void onAction(/** @type {string} */ (element.getAttribute("data-action")), element));
  }
  window.addEventListener("pagehide", () => void currentStage()?.close({ keepalive: true }));
}
