/**
 * The operations console (operator.html): every session with its state, scenario,
 * trainee, duration, viewers and stream settings; the warm pool and the queue; and an
 * "End session" button. Operators only: the orchestrator enforces it (403 on /v1/pool),
 * the page just explains it to anyone else.
 *
 * Live from the feed (feed.js, GET /v1/events): one snapshot (the pool and the session
 * list) when it connects, then `session` and `pool` events as they happen; no polling.
 */

import { ApiError, OrchestratorApi } from "./api.js";
import { currentSignIn, keepApiFresh } from "./auth.js";
import { LiveFeed, upsert } from "./feed.js";
import { $, announce, fillMessage, formatDuration, scenarioTitle, sessionPageLink, showView } from "./ui.js";
import { describeApiError, describeSessionEnd } from "./wording.js";

/** @typedef {import("./api.js").Session} Session */

const STATE_WORDS = {
  pending: "Waiting", starting: "Starting", ready: "Ready", active: "Active",
  ending: "Ending", ended: "Ended", failed: "Failed",
};
const ORDER = ["active", "ready", "starting", "pending", "ending", "failed", "ended"];

const page = {
  /** @type {OrchestratorApi | null} */
  api: null,
  /** @type {Session[]} */
  sessions: [],
  /** @type {any} */
  pool: null,
  lastOk: 0,
  /** @type {LiveFeed | null} */
  feed: null,
};
/** @type {any} */ (window).ixClient = page;

void boot();

async function boot() {
  const user = currentSignIn();
  if (!user) {
    deny({ title: "Sign in to use the operations console.", advice: "Open the sign-in link your administrator gave you, then come back here." });
    return;
  }
  $("#who").hidden = false;
  $("#who-name").textContent = user.subject;
  $("#who-role").textContent = user.role || "";
  page.api = new OrchestratorApi(user.token);
  keepApiFresh(page.api);
  $("#show-finished").addEventListener("change", () => render());
  page.feed = new LiveFeed(page.api, { onSnapshot, onEvent, onStatus }).start();
}

/** On connecting, and when the feed says it cannot resume: the whole picture again. */
async function onSnapshot() {
  const first = page.lastOk === 0;
  if (!(await refresh())) {
    page.feed?.stop();
    return;
  }
  if (!first) return;
  showView("console");
  setInterval(() => render(), 1000); // durations tick between changes
}

/**
 * @param {string} type
 * @param {any} data
 */
function onEvent(type, data) {
  if (type === "session") page.sessions = upsert(page.sessions, /** @type {Session} */ (data));
  else if (type === "pool") page.pool = data;
  else return;
  page.lastOk = Date.now();
  render();
}

/**
 * @param {"live" | "reconnecting" | "refused"} state
 * @param {any} [error]
 */
function onStatus(state, error) {
  if (state === "refused" || (state === "reconnecting" && page.lastOk === 0)) {
    page.feed?.stop();
    deny(describeApiError(error instanceof ApiError ? error : new ApiError(error?.status || 0, error?.message || "the live feed is not available")));
    return;
  }
  $("#stale").hidden = state === "live";
}

/** @returns {Promise<boolean>} false if the console must not be shown */
async function refresh() {
  const api = /** @type {OrchestratorApi} */ (page.api);
  try {
    const [pool, list] = await Promise.all([api.pool(), api.listSessions()]);
    page.pool = pool;
    page.sessions = list.items;
    page.lastOk = Date.now();
    $("#stale").hidden = true;
    render();
    return true;
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      deny(error.status === 403
        ? { title: "This page is for platform operators.", advice: "Sign in with an operator account to see every session and the training stations.", detail: error.detail }
        : describeApiError(error));
      return false;
    }
    if (page.lastOk === 0) {
      deny(describeApiError(/** @type {any} */ (error)));
      return false;
    }
    $("#stale").hidden = false;
    return true;
  }
}

/** @param {import("./wording.js").Message} message */
function deny(message) {
  fillMessage($("#denied-card"), message);
  showView("denied");
}

function render() {
  const showFinished = /** @type {HTMLInputElement} */ ($("#show-finished")).checked;
  const all = page.sessions;
  const count = (/** @type {string[]} */ states) => all.filter((s) => states.includes(s.state)).length;
  $("#t-active").textContent = String(count(["ready", "active"]));
  $("#t-queued").textContent = String(count(["pending"]));
  const pool = page.pool;
  $("#t-warm").textContent = pool ? `${pool.ready} / ${pool.desired}` : "–";
  $("#t-free").textContent = pool ? String(pool.free_capacity) : "–";
  $("#pool-text").textContent = pool ? poolWords(pool) : "–";
  $("#updated").textContent = page.lastOk ? `Updated ${new Date(page.lastOk).toLocaleTimeString()}` : "";
  const shown = all
    .filter((s) => showFinished || !["ended", "failed"].includes(s.state))
    .sort((a, b) => ORDER.indexOf(a.state) - ORDER.indexOf(b.state) || b.created_at.localeCompare(a.created_at));
  $("#empty").hidden = shown.length > 0;
  $("#rows").replaceChildren(...shown.map(row));
}

/** @param {any} pool */
function poolWords(pool) {
  const p = pool.profile || {};
  const size = p.width ? `${p.width}×${p.height} at ${p.fps} fps${p.stereo ? ", stereo" : ""}${p.codec ? `, ${String(p.codec).toUpperCase()}` : ""}` : "the default profile";
  return `${pool.ready} of ${pool.desired} warm stations ready (${pool.starting} starting), each prepared for ${size}. ` +
    `A session asking for this profile starts at once; others start a new station. ${pool.holding} held by sessions.`;
}

/** @param {Session} s */
function row(s) {
  const tr = document.createElement("tr");
  tr.dataset.session = s.id;
  const badge = document.createElement("span");
  badge.className = `badge ${s.state}`;
  badge.textContent = STATE_WORDS[/** @type {keyof STATE_WORDS} */ (s.state)] || s.state;
  if (s.state === "pending" && s.queue_position) badge.textContent += ` · #${s.queue_position} in line`;
  const stateCell = cell(badge);
  if (s.state === "failed" || s.state === "ended") stateCell.title = describeSessionEnd(s).title;
  const started = Date.parse(s.ready_at || s.created_at);
  const finished = ["ended", "failed"].includes(s.state) ? Date.parse(/** @type {any} */ (s).updated_at) : Date.now();
  const actions = document.createElement("div");
  actions.className = "actions";
  if (["starting", "ready", "active"].includes(s.state)) {
    actions.append(
      sessionPageLink("instruct", s, "Instruct", `Instruct ${s.owner}'s session`),
      sessionPageLink("watch", s, "Watch", `Watch ${s.owner}'s session`),
    );
  }
  if (s.state !== "pending") actions.append(sessionPageLink("review", s, "Review", `Review ${s.owner}'s session`));
  if (!["ending", "ended", "failed"].includes(s.state)) {
    const end = document.createElement("button");
    end.className = "btn btn-danger";
    end.type = "button";
    end.textContent = "End";
    end.setAttribute("aria-label", `End ${s.owner}'s session`);
    end.addEventListener("click", () => void confirmEnd(s));
    actions.append(end);
  }
  tr.append(
    stateCell,
    cell(scenarioTitle(s.scenario)),
    cell(s.owner),
    cell(s.client === "headset" ? "VR headset" : "Screen"),
    cell(s.state === "pending" ? "–" : formatDuration(finished - started), "num"),
    cell(String(s.viewers), "num"),
    cell(`${s.width}×${s.height} · ${s.fps} fps`, "num"),
    cell(/** @type {any} */ (s).start === "warm" ? "Warm" : /** @type {any} */ (s).start === "cold" ? "Cold" : "–"),
    cell(actions),
  );
  return tr;
}

/**
 * @param {string | Node} content
 * @param {string} [className]
 */
function cell(content, className = "") {
  const td = document.createElement("td");
  if (className) td.className = className;
  td.append(content);
  return td;
}

/** @param {Session} s */
async function confirmEnd(s) {
  const dialog = /** @type {HTMLDialogElement} */ ($("#confirm-end"));
  $("#confirm-text").textContent = `${s.owner}'s ${scenarioTitle(s.scenario)} session will stop immediately and their picture will go dark.`;
  dialog.returnValue = "";
  dialog.showModal();
  await new Promise((resolve) => dialog.addEventListener("close", resolve, { once: true }));
  if (dialog.returnValue !== "end") return;
  try {
    await /** @type {OrchestratorApi} */ (page.api).endSession(s.id);
    announce(`Ended ${s.owner}'s session.`);
  } catch (error) {
    announce(describeApiError(/** @type {any} */ (error)).title);
  }
  // The feed brings the session's `ending` and `ended`.
}
