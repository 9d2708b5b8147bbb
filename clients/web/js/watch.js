/**
 * The observer's page (watch.html?session=<id>): the same encoded stream the trainee
 * sees, view only. Instructors and operators open it from a shared link or from the
 * operations console; it asks the orchestrator for a spectator token (a new one for
 * every reconnection) and never opens the input channels.
 */

import { OrchestratorApi, TERMINAL_STATES } from "./api.js";
import { currentSignIn, keepApiFresh } from "./auth.js";
import { commonStageAction, spectatorStageOptions, wireStage } from "./spectator.js";
import { Stage } from "./stage.js";
import { $, fillMessage, scenarioTitle, showView } from "./ui.js";
import { describeApiError, describeSessionEnd } from "./wording.js";

const sessionId = new URLSearchParams(location.search).get("session");
const stageRoot = /** @type {HTMLElement} */ ($("#stage"));
const page = {
  /** @type {Stage | null} */
  stage: null,
  /** @type {OrchestratorApi | null} */
  api: null,
};
/** @type {any} */ (window).ixClient = page;

$("#retry").addEventListener("click", () => void watch());
$("#rejoin").addEventListener("click", () => void watch());
wireStage(stageRoot, onAction, () => page.stage);
void watch();

async function watch() {
  const user = currentSignIn();
  if (!user) {
    problem({ title: "Sign in to watch this session.", advice: "Open IX Stream's home page, sign in, then open this link again.", retry: false });
    return;
  }
  if (!sessionId) {
    problem({ title: "This link does not name a session.", advice: "Ask for the link again, or pick a session in the operations console.", retry: false });
    return;
  }
  const api = new OrchestratorApi(user.token);
  keepApiFresh(api);
  page.api = api;
  showView("loading");
  let session;
  try {
    session = await api.getSession(sessionId);
  } catch (error) {
    problem(describeApiError(/** @type {any} */ (error)));
    return;
  }
  if (TERMINAL_STATES.includes(session.state)) {
    problem(describeSessionEnd(session));
    return;
  }
  const stage = new Stage(stageRoot);
  page.stage = stage;
  stage.addEventListener("over", (e) => {
    void leave().then(() => problem(/** @type {CustomEvent} */ (e).detail.message));
  });
  document.body.classList.add("on-stage");
  stageRoot.hidden = false;
  try {
    await stage.open(spectatorStageOptions(api, session, `${scenarioTitle(session.scenario)} · ${session.owner}`));
  } catch (error) {
    await leave();
    problem(describeApiError(/** @type {any} */ (error)));
  }
}

async function leave() {
  const stage = page.stage;
  page.stage = null;
  if (stage) await stage.close();
  stageRoot.hidden = true;
  document.body.classList.remove("on-stage");
  if (document.fullscreenElement) await document.exitFullscreen().catch(() => {});
}

/**
 * @param {string} action
 * @param {HTMLElement} button
 */
async function onAction(action, button) {
  if (await commonStageAction(action, button, page.stage, stageRoot)) return;
  if (action === "leave") {
    await leave();
    showView("stopped");
  }
}

/** @param {import("./wording.js").Message} message */
function problem(message) {
  fillMessage($("#problem-card"), message);
  $("#retry").hidden = message.retry === false;
  showView("problem");
}
