/**
 * The instructor console (instruct.html?session=<id>): the trainee's live view (as a
 * spectator), the scenario's objectives, what is happening in it now, and the controls
 * an instructor directs it with: its instructor events, pause and resume, and ending
 * it with an outcome. Instructors and operators only: the orchestrator refuses anyone
 * else's commands (403); the page says so instead of offering buttons that fail.
 *
 * The scenario's state comes from the live feed (feed.js, GET /v1/events), not polling:
 * a snapshot (GET /v1/sessions/{id}/scenario) when the feed connects, then every
 * instructor's command arrives as a `scenario` event with the new state; what happens in
 * the scene (a trigger, the trainee starting) as a `scenario-log` event, and a change of
 * the session's state as a `session` event, each followed by one snapshot fetch. The
 * scenario clock ticks here between changes. Every command also answers with the new
 * state, shown at once. Those paths can cross, so the newer state wins (snapshots.js).
 */

import { ApiError, OrchestratorApi } from "./api.js";
import { currentSignIn, keepApiFresh } from "./auth.js";
import { LiveFeed } from "./feed.js";
import { commonStageAction, sessionIsOver, spectatorStageOptions, wireStage } from "./spectator.js";
import { isOvertaken } from "./snapshots.js";
import { Stage } from "./stage.js";
import { $, fillMessage, formatClock, scenarioTitle, showView } from "./ui.js";
import { describeApiError, describeOutcome, describeSessionEnd, OUTCOME_LABELS } from "./wording.js";

/** @typedef {import("./api.js").Session} Session */
/** @typedef {import("./api.js").ScenarioSnapshot} ScenarioSnapshot */
/** @typedef {import("./api.js").ScenarioCommand} ScenarioCommand */

const DIRECTING_ROLES = ["instructor", "operator"];

const sessionId = new URLSearchParams(location.search).get("session");
const stageRoot = /** @type {HTMLElement} */ ($("#stage"));
const page = {
  /** @type {OrchestratorApi | null} */
  api: null,
  /** @type {Session | null} */
  session: null,
  /** @type {import("./api.js").ScenarioDocument | null} */
  scenario: null,
  /** @type {ScenarioSnapshot | null} the latest state of the running scenario */
  snapshot: null,
  /** @type {Stage | null} */
  stage: null,
  /** @type {LiveFeed | null} the live feed, while the console is live */
  feed: null,
  /** @type {ReturnType<typeof setInterval> | null} ticks the scenario clock */
  clock: null,
  /** performance.now() when `snapshot` arrived: the clock counts on from there */
  snapshotAt: 0,
  fetching: false,
  /** A change arrived while a snapshot was being fetched: fetch once more after it. */
  stale: false,
  /** Whether the status line shows a fetch error (cleared once a fetch works again). */
  pollError: false,
  busy: false,
};
// Diagnostics for support staff and the browser tests: `ixClient.snapshot`, `ixClient.stage.report()`.
/** @type {any} */ (window).ixClient = page;

$("#retry").addEventListener("click", () => void boot());
$("#pause").addEventListener("click", () => void command({ command: "pause" }, "Paused the scenario."));
$("#resume").addEventListener("click", () => void command({ command: "resume" }, "Resumed the scenario."));
$("#end-form").addEventListener("submit", (e) => {
  e.preventDefault();
  void endScenario();
});
wireStage(stageRoot, onStageAction, () => page.stage);
void boot();

async function boot() {
  const user = currentSignIn();
  if (!user) {
    problem({ title: "Sign in to direct this session.", advice: "Open IX Stream's home page, sign in, then open this link again.", retry: false });
    return;
  }
  $("#who").hidden = false;
  $("#who-name").textContent = user.subject;
  $("#who-role").textContent = user.role || "";
  if (!sessionId) {
    problem({ title: "This link does not name a session.", advice: "Open the instructor console from the list of training sessions.", retry: false });
    return;
  }
  if (!DIRECTING_ROLES.includes(user.role || "")) {
    problem({
      title: "This page is for instructors.",
      advice: "Sign in with an instructor or operator account to direct a scenario.",
      detail: `signed in as ${user.subject} (${user.role || "no role"})`,
      retry: false,
    });
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
    problem(refusal(/** @type {any} */ (error)));
    return;
  }
  page.session = session;
  for (const link of [$("#review-link"), $("#review-now")]) {
    /** @type {HTMLAnchorElement} */ (link).href = `review.html?session=${encodeURIComponent(session.id)}`;
  }
  if (sessionIsOver(session)) {
    showEnded(session);
    return;
  }
  page.scenario = await api.scenario(session.scenario).catch(() => null); // built-ins have no document
  renderScenario(session);
  showView("console");
  startFeed(api);
  await openStage(session);
}

/** @param {Session} session */
function renderScenario(session) {
  const doc = page.scenario;
  $("#scenario-title").textContent = doc ? doc.title : scenarioTitle(session.scenario);
  $("#trainee").textContent = `Trainee: ${session.owner}`;
  document.title = `IX Stream · ${doc ? doc.title : scenarioTitle(session.scenario)} · Instructor console`;
  $("#scenario-summary").textContent = doc?.summary || "";
  $("#no-document").hidden = Boolean(doc);
  $("#objectives").replaceChildren(
    ...(doc?.objectives || []).map((text) => {
      const li = document.createElement("li");
      li.textContent = text;
      return li;
    }),
  );
  const events = doc?.instructor_events || [];
  $("#events-none").hidden = events.length > 0;
  $("#events").replaceChildren(
    ...events.map((event) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.className = "btn";
      button.type = "button";
      button.textContent = event.label;
      button.dataset.event = event.id;
      li.append(button);
      if (event.description) {
        button.title = event.description;
        const hint = document.createElement("p");
        hint.className = "hint";
        hint.id = `event-${event.id}-hint`;
        hint.textContent = event.description;
        button.setAttribute("aria-describedby", hint.id);
        li.append(hint);
      }
      button.addEventListener("click", () => void command({ command: "event", event: event.id }, `Sent “${event.label}”.`));
      return li;
    }),
  );
}

/** @param {Session} session */
async function openStage(session) {
  const stage = new Stage(stageRoot);
  page.stage = stage;
  $("[data-action=reconnect]", stageRoot).hidden = true;
  stage.addEventListener("over", (e) => void onStageOver(/** @type {CustomEvent} */ (e).detail));
  const title = `${page.scenario ? page.scenario.title : scenarioTitle(session.scenario)} · ${session.owner}`;
  try {
    await stage.open(spectatorStageOptions(/** @type {OrchestratorApi} */ (page.api), session, title));
  } catch (error) {
    setStatus(`The live view could not start: ${describeApiError(/** @type {any} */ (error)).title}`, "error", error);
    $("[data-action=reconnect]", stageRoot).hidden = false;
  }
}

/** @param {{message: import("./wording.js").Message, session: Session | null, state: string}} detail */
async function onStageOver({ message, session, state }) {
  if (state === "ended" && session) {
    if (!page.feed) return; // the feed saw it first
    await stop();
    showEnded(session);
    return;
  }
  // The video connection failed, the session may well still run: keep the controls.
  setStatus(`The live view was lost: ${message.title}`, "error");
  $("[data-action=reconnect]", stageRoot).hidden = false;
}

async function sessionGone() {
  if (!page.feed) return; // already handled
  const current = await page.api?.getSession(/** @type {string} */ (sessionId)).catch(() => null);
  await stop();
  showEnded(current || /** @type {Session} */ (page.session));
}

async function stop() {
  page.feed?.stop();
  page.feed = null;
  if (page.clock) clearInterval(page.clock);
  page.clock = null;
  const stage = page.stage;
  page.stage = null;
  if (stage) await stage.close();
}

/** @param {Session} session */
function showEnded(session) {
  const snap = page.snapshot;
  if (snap && snap.outcome) {
    const words = describeOutcome(snap.outcome, snap.message);
    $("#ended-title").textContent = `The scenario ended: ${outcomeLabel(snap.outcome)}.`;
    $("#ended-text").textContent = `${words.advice} Scenario time ${formatClock(snap.t)}.`;
  } else {
    const words = describeSessionEnd(session);
    $("#ended-title").textContent = words.title;
    $("#ended-text").textContent = "The after-action review has everything that happened.";
  }
  showView("ended");
}

/** @param {OrchestratorApi} api its token is renewed by sign-in; the feed reconnects with it */
function startFeed(api) {
  page.feed?.stop();
  page.feed = new LiveFeed(api, {
    onSnapshot: () => poll(),
    onEvent,
    onStatus: (state, error) => {
      if (state === "refused") setStatus(refusalWords(error), "error", error);
    },
  }).start();
  if (page.clock) clearInterval(page.clock);
  page.clock = setInterval(tick, 250);
}

/**
 * @param {string} type
 * @param {any} data
 */
function onEvent(type, data) {
  if (type === "scenario" && data.session_id === sessionId) render(/** @type {ScenarioSnapshot} */ (data));
  else if (type === "session" && data.id === sessionId) {
    if (sessionIsOver(data) || data.state === "ending") void sessionGone();
    else void poll();
  } else if (type === "scenario-log" && data.session_id === sessionId) void poll();
}

/** The scenario clock between changes: it runs while the scenario runs. */
function tick() {
  const snap = page.snapshot;
  if (!snap || !snap.started || snap.paused || snap.outcome) return;
  setText($("#live-time"), formatClock(snap.t + (performance.now() - page.snapshotAt) / 1000));
}

/** One snapshot fetch (a second one after it if a change arrived meanwhile). */
async function poll() {
  if (!page.api || !sessionId) return;
  if (page.fetching) {
    page.stale = true;
    return;
  }
  page.fetching = true;
  page.stale = false;
  try {
    render(await page.api.scenarioSnapshot(sessionId));
    if (page.pollError) setStatus("");
    page.pollError = false;
  } catch (error) {
    const e = /** @type {any} */ (error);
    if (e instanceof ApiError && e.status === 410) {
      // The session ended (the scenario's end ends it too): no need to wait for the video to notice.
      await sessionGone();
      return;
    }
    page.pollError = true;
    setStatus(`The scenario's state is not available: ${e.detail || e.message}`, "error");
    if (e instanceof ApiError && e.status === 404) renderUnavailable();
  } finally {
    page.fetching = false;
  }
  if (page.stale && page.feed) await poll();
}

/** @param {ScenarioSnapshot} snap */
function render(snap) {
  if (isOvertaken(snap, page.snapshot)) {
    console.info("instructor console: kept the newer scenario state; an older one arrived late", snap.seq, page.snapshot?.seq);
    return;
  }
  page.snapshot = snap;
  page.snapshotAt = performance.now();
  setText($("#live-time"), formatClock(snap.t));
  setText($("#live-state"), stateWords(snap));
  setText($("#live-caption"), snap.caption ? `“${snap.caption}”` : "–");
  setText($("#live-outcome"), snap.outcome ? `${outcomeLabel(snap.outcome)}${snap.message ? `: ${snap.message}` : ""}` : "–");
  const ids = Array.isArray(snap.fired) ? snap.fired : [];
  const fired = $("#live-fired");
  if (fired.dataset.ids !== ids.join(" ")) {
    fired.dataset.ids = ids.join(" ");
    fired.replaceChildren(
      ...ids.map((id) => {
        const li = document.createElement("li");
        li.textContent = id;
        return li;
      }),
    );
  }
  $("#live-fired-none").hidden = ids.length > 0;
  const over = Boolean(snap.outcome);
  // Before the trainee is in the scene the scenario has not started: nothing can be
  // fired, paused or ended yet, and the page says why and what to do.
  const waiting = !over && !snap.started;
  /** @type {HTMLButtonElement} */ ($("#pause")).disabled = over || waiting || snap.paused;
  /** @type {HTMLButtonElement} */ ($("#resume")).disabled = over || waiting || !snap.paused;
  for (const button of document.querySelectorAll("#events button")) /** @type {HTMLButtonElement} */ (button).disabled = over || waiting;
  /** @type {HTMLButtonElement} */ ($("#end")).disabled = over;
  const advice = $("#live-advice");
  setText(advice, adviceWords(snap));
  advice.hidden = !advice.textContent;
}

/**
 * What the instructor can do now, when the answer is "wait".
 * @param {ScenarioSnapshot} snap
 */
function adviceWords(snap) {
  if (snap.outcome) return "";
  if (!snap.started) {
    return "The trainee has not joined the scene yet. Events and pause become available as soon as they do: ask them to open their session and press Start session.";
  }
  if (snap.paused) return "The trainee's scene is frozen and their clock stands still. Press Resume to continue.";
  return "";
}

function renderUnavailable() {
  page.snapshot = null;
  setText($("#live-state"), "No scenario is running in this session.");
}

/** @param {ScenarioSnapshot} snap */
function stateWords(snap) {
  if (snap.outcome) return `Ended (${outcomeLabel(snap.outcome)})`;
  if (!snap.started) return "Waiting for the trainee to connect";
  return snap.paused ? "Paused" : "Running";
}

/** @param {string} outcome */
function outcomeLabel(outcome) {
  return OUTCOME_LABELS[/** @type {keyof OUTCOME_LABELS} */ (outcome)] || outcome;
}

/**
 * Sends one command; its answer is the new state. Refusals (403, 404, 409) are shown
 * with the server's own explanation.
 * @param {ScenarioCommand} body
 * @param {string} done what to say when it worked
 */
async function command(body, done) {
  if (!page.api || !sessionId || page.busy) return;
  page.busy = true;
  try {
    const snap = await page.api.scenarioCommand(sessionId, body);
    render(snap);
    setStatus(`${done} Scenario time ${formatClock(snap.t)}.`, "ok");
    // Ending the scenario ends the session, and the feed may say so before this answer
    // arrives: the page then showed a plain "ended" without the outcome it now has.
    if (!page.feed && snap.outcome) showEnded(/** @type {Session} */ (page.session));
  } catch (error) {
    setStatus(refusalWords(/** @type {any} */ (error)), "error", error);
  } finally {
    page.busy = false;
  }
}

async function endScenario() {
  const outcome = /** @type {HTMLSelectElement} */ ($("#outcome")).value;
  if (!["success", "partial", "failure"].includes(outcome)) {
    setStatus("Choose an outcome before ending the session.", "error");
    $("#outcome").focus();
    return;
  }
  const message = /** @type {HTMLInputElement} */ ($("#end-message")).value.trim() || null;
  await command(
    { command: "end", outcome: /** @type {"success" | "partial" | "failure"} */ (outcome), message },
    `Ended the scenario: ${outcomeLabel(outcome)}.`,
  );
}

/**
 * @param {ApiError | Error} error
 * @returns {string} the problem in one line, with the server's detail
 */
function refusalWords(error) {
  const e = /** @type {any} */ (error);
  const detail = e.detail || e.message || "";
  if (e.status === 403) return `Refused: your account may not direct scenarios. ${detail}`.trim();
  if (e.status === 0) return `The IX Stream server cannot be reached. ${detail}`.trim();
  return `Refused: ${detail || describeApiError(e).title}`;
}

/**
 * @param {ApiError | Error} error
 * @returns {import("./wording.js").Message}
 */
function refusal(error) {
  const e = /** @type {any} */ (error);
  if (e.status === 403) {
    return { title: "This page is for instructors.", advice: "Sign in with an instructor or operator account to direct a scenario.", detail: e.detail, retry: false };
  }
  return describeApiError(e);
}

/**
 * The status line under the title (a polite live region).
 * @param {string} text
 * @param {"ok" | "error" | ""} [tone]
 * @param {unknown} [error] logged for support
 */
function setStatus(text, tone = "", error = undefined) {
  const line = $("#status");
  line.dataset.tone = tone;
  setText(line, text);
  if (error) console.info("instructor console:", error);
}

/** @param {HTMLElement} element @param {string} text */
function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

/**
 * @param {string} action
 * @param {HTMLElement} button
 */
async function onStageAction(action, button) {
  if (await commonStageAction(action, button, page.stage, stageRoot)) return;
  if (action === "reconnect" && page.session) {
    await page.stage?.close();
    setStatus("");
    await openStage(page.session);
  }
}

/** @param {import("./wording.js").Message} message */
function problem(message) {
  fillMessage($("#problem-card"), message);
  $("#retry").hidden = message.retry === false;
  showView("problem");
}
