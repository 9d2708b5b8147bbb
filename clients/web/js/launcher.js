/**
 * The trainee's page (index.html): sign in, pick a scenario, start a session, wait in
 * line if the platform is full, then train on this screen or in a VR headset.
 *
 * The page keeps `?session=<id>` in the address while a session runs, so a reload (or
 * a dropped Wi-Fi that reloads the tab) goes straight back to the same session.
 *
 * Nothing here polls: the live feed (feed.js, GET /v1/events) brings every change to
 * the session lists and to the session being waited for; the page fetches a session
 * (for its token) only when the feed says it changed.
 */

import { ApiError, OrchestratorApi, TERMINAL_STATES } from "./api.js";
import { currentSignIn, keepSignedIn, signIn, signOut } from "./auth.js";
import { LiveFeed, upsert } from "./feed.js";
import { confirmOrExplain, resolveSignIn, showSignInProblem, signOutEverywhere } from "./signin-view.js";
import { Stage } from "./stage.js";
import { $, announce, copyText, fillMessage, formatDuration, scenarioTitle, sessionPageLink, sessionSummary, showView } from "./ui.js";
import { describeApiError, describeOutcome, describeSessionEnd, queueWords } from "./wording.js";
import { HeadsetClient, immersiveVrSupported } from "./xr.js";

/** @typedef {import("./api.js").Session} Session */

/** If the feed is down, a waiting page still looks again this often (it is a safety net). */
const FALLBACK_MS = 15_000;
/** States in which the session has (or is about to have) a streamer to signal to. */
const STARTABLE = ["starting", "ready", "active"];
/** States of a session that is not over yet. */
const LIVE_STATES = ["pending", "starting", "ready", "active"];
/** Who may direct scenarios (the instructor console) and review them. */
const DIRECTING_ROLES = ["instructor", "operator"];
/** How many finished sessions the instructor's list offers for review. */
const FINISHED_SHOWN = 5;

const page = {
  /** @type {OrchestratorApi | null} */
  api: null,
  /** @type {import("./auth.js").SignIn | null} */
  user: null,
  /** @type {Session | null} */
  session: null,
  /** @type {Stage | null} */
  stage: null,
  /** @type {HeadsetClient | null} */
  headset: null,
  /** Bumped whenever the page moves on, so stale waits stop. */
  generation: 0,
  openedAt: 0,
  /** @type {LiveFeed | null} */
  feed: null,
  /** @type {Session[]} the sessions the lists show, kept current by the feed */
  list: [],
  /** @type {(() => void) | null} wakes `follow` on a change */
  wake: null,
  /** Counts changes to the followed session, so one that lands mid-fetch is not missed. */
  changes: 0,
};

// A diagnostics handle for support staff (and the browser tests): `ixClient.stage.report()`.
/** @type {any} */ (window).ixClient = page;

const stageRoot = /** @type {HTMLElement} */ ($("#stage"));
/** The keyboard-and-mouse hint, restored when a screen session follows a headset one. */
const DESKTOP_HINT = $("[data-role=hint]", stageRoot).innerHTML;

void boot();

async function boot() {
  $("#signin-form").addEventListener("submit", onSignIn);
  $("#sign-out").addEventListener("click", () => signOutEverywhere());
  $("#start-form").addEventListener("submit", (e) => {
    e.preventDefault();
    void start("browser");
  });
  $("#start-vr").addEventListener("click", () => void start("headset"));
  $("#cancel").addEventListener("click", () => void cancelWaiting());
  $("#problem-new").addEventListener("click", () => void start(page.session?.client === "headset" ? "headset" : "browser"));
  $("#problem-back").addEventListener("click", () => void showLauncher());
  $("#ended-new").addEventListener("click", () => void showLauncher());
  for (const button of stageRoot.querySelectorAll("[data-action]")) {
    button.addEventListener("click", () => void onStageAction(/** @type {string} */ (button.getAttribute("data-action")), /** @type {HTMLElement} */ (button)));
  }
  window.addEventListener("pagehide", () => {
    // Stop receiving (WHEP DELETE with keepalive), but leave the session running: a
    // reload comes back to it, and the orchestrator's idle timeout ends abandoned ones.
    if (page.stage) void page.stage.close({ keepalive: true });
  });
  page.user = await resolveSignIn();
  if (page.user) void enterApp();
}

/** @param {SubmitEvent} event */
function onSignIn(event) {
  event.preventDefault();
  const field = /** @type {HTMLTextAreaElement} */ ($("#token"));
  const user = signIn(field.value);
  if (!user) {
    $("#token-error").textContent = "That access code is not valid or has expired. Ask your administrator for a new sign-in link.";
    field.focus();
    return;
  }
  field.value = "";
  page.user = user;
  void enterApp();
}

async function enterApp() {
  const user = await confirmOrExplain(/** @type {import("./auth.js").SignIn} */ (page.user));
  if (!user) return;
  page.user = user;
  page.api = new OrchestratorApi(user.token);
  keepSignedIn((token) => { if (page.api) page.api.token = token; }, (lost) => {
    signOut();
    page.user = null;
    $("#account").hidden = true;
    showSignInProblem(lost);
  });
  $("#account").hidden = false;
  $("#who-name").textContent = user.subject;
  $("#who-role").textContent = user.role || "";
  $("#operator-link").hidden = user.role !== "operator";
  page.feed?.stop();
  page.feed = new LiveFeed(page.api, { onSnapshot: onFeedSnapshot, onEvent: onFeedEvent }).start();
  const resume = new URLSearchParams(location.search).get("session");
  if (resume) {
    try {
      const session = await page.api.getSession(resume);
      await follow(session);
      return;
    } catch (error) {
      if (handleAuthError(error)) return;
      setAddress(null);
    }
  }
  await showLauncher();
}

async function showLauncher() {
  page.generation++;
  await leaveStage();
  setAddress(null);
  showView("launcher");
  const api = /** @type {OrchestratorApi} */ (page.api);
  const [scenarios, vr] = await Promise.all([api.scenarios().catch((e) => e), immersiveVrSupported()]);
  if (scenarios instanceof Error) {
    if (handleAuthError(scenarios)) return;
    showProblem(describeApiError(scenarios));
    return;
  }
  renderScenarios(scenarios);
  $("#start-vr").hidden = !vr;
  $("#vr-hint").hidden = !vr;
  void renderMySessions();
}

/**
 * One card per scenario: the title, description and expected duration the library
 * gives it (its author's words), not its id.
 * @param {import("./api.js").CatalogueEntry[]} scenarios
 */
function renderScenarios(scenarios) {
  const box = $("#scenarios");
  const previous = /** @type {HTMLInputElement | null} */ (box.querySelector("input:checked"))?.value;
  box.replaceChildren(
    ...scenarios.map((scenario, i) => {
      const label = document.createElement("label");
      label.className = "choice";
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "scenario";
      input.value = scenario.name;
      input.checked = previous ? previous === scenario.name : i === 0;
      const body = document.createElement("span");
      body.className = "choice-body";
      const title = document.createElement("strong");
      title.textContent = scenario.title || scenarioTitle(scenario.name);
      const note = document.createElement("span");
      note.dataset.role = "description";
      note.textContent = scenario.description || (scenario.source === "test-pattern" ? "Calibration picture for checking the connection" : "3D training scene");
      body.append(title, note);
      if (scenario.expected_duration_min) {
        const duration = document.createElement("span");
        duration.dataset.role = "duration";
        duration.className = "choice-duration";
        duration.textContent = `About ${scenario.expected_duration_min} min`;
        body.append(duration);
      }
      label.append(input, body);
      return label;
    }),
  );
}

/** The feed (re)connected without being able to resume: fetch what it may have missed. */
async function onFeedSnapshot() {
  if (launcherShown()) await renderMySessions();
  page.changes++;
  page.wake?.();
}

/**
 * @param {string} type
 * @param {any} data
 */
function onFeedEvent(type, data) {
  if (type !== "session") return;
  const session = /** @type {Session} */ (data);
  page.list = upsert(page.list, session);
  if (launcherShown()) drawMySessions(page.list);
  if (page.session && session.id === page.session.id) {
    page.changes++;
    page.wake?.();
  }
}

function launcherShown() {
  return !document.querySelector('[data-view="launcher"]')?.hasAttribute("hidden");
}

async function renderMySessions() {
  const api = /** @type {OrchestratorApi} */ (page.api);
  try {
    page.list = (await api.listSessions()).items;
  } catch {
    return;
  }
  drawMySessions(page.list);
}

/** @param {Session[]} all */
function drawMySessions(all) {
  const api = /** @type {OrchestratorApi} */ (page.api);
  const directs = DIRECTING_ROLES.includes(page.user?.role || "");
  const sessions = all.filter((s) => LIVE_STATES.includes(s.state));
  const mine = sessions.filter((s) => s.owner === page.user?.subject);
  if (directs) renderTraineeSessions(all.filter((s) => s.owner !== page.user?.subject));
  $("#my-sessions").hidden = mine.length === 0;
  $("#my-session-list").replaceChildren(
    ...mine.map((s) => {
      const li = document.createElement("li");
      const [text, badge] = sessionSummary(s, scenarioTitle(s.scenario));
      const open = document.createElement("button");
      open.className = "btn";
      open.type = "button";
      open.textContent = "Return to session";
      open.addEventListener("click", () => void follow(s));
      const end = document.createElement("button");
      end.className = "btn btn-quiet";
      end.type = "button";
      end.textContent = "End";
      end.addEventListener("click", async () => {
        await api.endSession(s.id).catch(() => {}); // the feed brings the change
      });
      li.append(text, badge, open);
      if (directs && s.state !== "pending") li.append(sessionPageLink("instruct", s, "Instruct", `Instruct your ${scenarioTitle(s.scenario)} session`, true));
      li.append(end);
      return li;
    }),
  );
}

/**
 * Instructors and operators: everyone else's sessions, live ones to direct or watch,
 * and the latest finished ones to review.
 * @param {Session[]} sessions
 */
function renderTraineeSessions(sessions) {
  const live = sessions.filter((s) => LIVE_STATES.includes(s.state));
  const finished = sessions
    .filter((s) => TERMINAL_STATES.includes(s.state))
    .sort((a, b) => b.created_at.localeCompare(a.created_at))
    .slice(0, FINISHED_SHOWN);
  const shown = [...live, ...finished];
  $("#trainee-sessions").hidden = shown.length === 0;
  $("#trainee-session-list").replaceChildren(
    ...shown.map((s) => {
      const li = document.createElement("li");
      li.dataset.session = s.id;
      const [text, badge] = sessionSummary(s, `${scenarioTitle(s.scenario)} · ${s.owner}`);
      li.append(text, badge);
      if (STARTABLE.includes(s.state)) {
        li.append(sessionPageLink("instruct", s, "Instruct", `Instruct ${s.owner}'s session`, true), sessionPageLink("watch", s, "Watch", `Watch ${s.owner}'s session`));
      }
      if (s.state !== "pending") li.append(sessionPageLink("review", s, "Review", `Review ${s.owner}'s session`));
      return li;
    }),
  );
}

/** What the options ask for. @returns {import("./api.js").SessionRequest} */
function sessionRequest() {
  const scenario = /** @type {HTMLInputElement | null} */ (document.querySelector("input[name=scenario]:checked"))?.value;
  /** @type {import("./api.js").SessionRequest} */
  const request = { client: "browser" };
  if (scenario) request.scenario = scenario;
  const quality = /** @type {HTMLSelectElement} */ ($("#quality")).value;
  if (quality === "screen") Object.assign(request, screenSize());
  else if (quality !== "auto") {
    const [width, height] = quality.split("x").map(Number);
    Object.assign(request, { width, height });
  }
  const codec = /** @type {HTMLSelectElement} */ ($("#codec")).value;
  if (codec === "h264" || codec === "vp8") request.codec = codec;
  return request;
}

/** This window in device pixels, within 1920×1080 (beyond that the CPU path cannot keep 60 fps). */
function screenSize() {
  const dpr = window.devicePixelRatio || 1;
  let w = window.innerWidth * dpr;
  let h = window.innerHeight * dpr;
  const scale = Math.min(1, 1920 / w, 1080 / h);
  w = 2 * Math.round((w * scale) / 2);
  h = 2 * Math.round((h * scale) / 2);
  return { width: Math.max(320, w), height: Math.max(240, h) };
}

/** @param {"browser" | "headset"} kind */
async function start(kind) {
  const generation = ++page.generation;
  const api = /** @type {OrchestratorApi} */ (page.api);
  const request = sessionRequest();
  if (kind === "headset") {
    // First, while we still hold the click's user activation: requestSession needs it.
    page.headset = new HeadsetClient(/** @type {HTMLVideoElement} */ ($("video", stageRoot)));
    let eyes;
    try {
      eyes = await page.headset.enter();
    } catch (error) {
      page.headset = null;
      showProblem({ title: "The headset could not start VR.", advice: "Make sure the headset is awake and try Enter VR again.", detail: String(error), retry: true });
      return;
    }
    Object.assign(request, { client: "headset", width: eyes.width, height: eyes.height });
    delete request.codec;
    page.headset.setStatus(["Preparing your training station", "This usually takes a few seconds."]);
    page.headset.addEventListener("end", () => onHeadsetEnded());
  }
  setWaiting("Preparing your training station", "This usually takes a few seconds.");
  let session;
  try {
    session = await api.createSession(request, { wait: true });
  } catch (error) {
    if (generation !== page.generation) return;
    if (handleAuthError(error)) return;
    await page.headset?.exit();
    showProblem(describeApiError(/** @type {ApiError} */ (error)));
    return;
  }
  if (generation !== page.generation) return;
  await follow(session, generation);
}

/**
 * Follows a session until it can be watched (then opens the stage) or is over.
 * @param {Session} session
 * @param {number} [generation]
 */
async function follow(session, generation = ++page.generation) {
  const api = /** @type {OrchestratorApi} */ (page.api);
  page.session = session;
  setAddress(session.id);
  let seen = page.changes;
  for (;;) {
    if (generation !== page.generation) return;
    if (TERMINAL_STATES.includes(session.state) || session.state === "ending") {
      await page.headset?.exit();
      showProblem(describeSessionEnd(session));
      return;
    }
    if (STARTABLE.includes(session.state) && session.token) {
      await openStage(session);
      return;
    }
    if (session.state === "pending") {
      setWaiting("Waiting for a training station", queueWords(session.queue_position));
    } else {
      setWaiting("Preparing your training station", "This usually takes a few seconds.");
    }
    await nextChange(seen);
    seen = page.changes;
    try {
      session = await api.getSession(session.id); // for its token, once per change
      page.session = session;
    } catch (error) {
      if (handleAuthError(error)) return;
      // The control plane is briefly unreachable: keep waiting.
    }
  }
}

/**
 * Until the feed brings a change to the followed session after the `seen`th (or
 * reconnects, or the safety-net timer runs out).
 * @param {number} seen
 * @returns {Promise<void>}
 */
function nextChange(seen) {
  return new Promise((resolve) => {
    if (page.changes !== seen) {
      resolve();
      return;
    }
    const timer = setTimeout(() => done(), FALLBACK_MS);
    const done = () => {
      clearTimeout(timer);
      page.wake = null;
      resolve();
    };
    page.wake = done;
  });
}

/** @param {string} title @param {string} text */
function setWaiting(title, text) {
  if (document.querySelector('[data-view="waiting"]')?.hasAttribute("hidden")) showView("waiting");
  $("#wait-title").textContent = title;
  $("#wait-text").textContent = text;
  page.headset?.setStatus([title, text]);
}

async function cancelWaiting() {
  const session = page.session;
  page.generation++;
  await page.headset?.exit();
  if (session && page.api) await page.api.endSession(session.id).catch(() => {});
  await showLauncher();
}

/** @param {Session} session */
async function openStage(session) {
  const api = /** @type {OrchestratorApi} */ (page.api);
  document.body.classList.add("on-stage");
  stageRoot.hidden = false;
  const headset = page.headset;
  for (const el of stageRoot.querySelectorAll("[data-vr-only]")) /** @type {HTMLElement} */ (el).hidden = !headset;
  $("[data-action=share]", stageRoot).hidden = false;
  const stage = new Stage(stageRoot);
  page.stage = stage;
  page.openedAt = Date.now();
  let first = true;
  stage.addEventListener("over", (e) => {
    const { message, session: over, state } = /** @type {CustomEvent} */ (e).detail;
    if (over) page.session = over;
    // A scenario that ended with an outcome (the instructor ended it, say) ends the
    // session too: that is the end of the training, not a problem.
    const scenario = stage.scenario;
    void headset?.exit();
    void leaveStage().then(() => (state === "ended" && scenario?.outcome ? showOutcome(scenario) : showProblem(message)));
  });
  const hint = $("[data-role=hint]", stageRoot);
  if (headset) {
    stage.reprojectionSource = () => headset.lastCorrectionDeg;
    hint.textContent = "Your session is running in the headset.";
  } else {
    hint.innerHTML = DESKTOP_HINT;
  }
  await stage.open({
    title: scenarioTitle(session.scenario),
    targetFps: session.fps,
    codec: session.codec === "vp8" ? "vp8" : "h264",
    drives: true,
    desktopInput: !headset,
    onStream: (stream) => {
      if (!headset) return;
      headset.latency = stage.latency; // one motion-to-photon figure, measured where frames are shown
      headset.attach(stream);
    },
    endpoint: async () => {
      // The first attempt uses the token we have; later ones fetch a fresh one.
      if (!first) page.session = await api.getSession(session.id);
      first = false;
      const current = /** @type {Session} */ (page.session);
      return { url: current.whep_url, token: current.token, iceServers: current.ice_servers || [] };
    },
    checkSession: async () => {
      const current = await api.getSession(session.id);
      page.session = current;
      return { alive: !TERMINAL_STATES.includes(current.state) && current.state !== "ending", session: current };
    },
  });
}

async function leaveStage() {
  const stage = page.stage;
  page.stage = null;
  if (stage) await stage.close();
  page.headset?.detach();
  stageRoot.hidden = true;
  $("[data-role=vr]", stageRoot).hidden = true;
  document.body.classList.remove("on-stage");
  if (document.fullscreenElement) await document.exitFullscreen().catch(() => {});
}

/**
 * @param {string} action
 * @param {HTMLElement} button
 */
async function onStageAction(action, button) {
  const stage = page.stage;
  if (action === "stats" && stage) {
    const on = stage.overlay.toggle();
    button.setAttribute("aria-pressed", String(on));
    stage.refreshOverlay();
  } else if (action === "fullscreen") {
    if (document.fullscreenElement) await document.exitFullscreen().catch(() => {});
    else await stageRoot.requestFullscreen().catch(() => {});
  } else if (action === "share" && page.session) {
    const url = new URL(`watch.html?session=${encodeURIComponent(page.session.id)}`, location.href).toString();
    await copyText(url);
    announce("View-only link copied. Anyone you send it to must sign in as an instructor or operator.");
    button.textContent = "Link copied";
    setTimeout(() => (button.textContent = "Share view"), 2500);
  } else if (action === "end") {
    await endSession();
  } else if (action === "reenter-vr" && page.headset) {
    try {
      await page.headset.enter();
      $("[data-role=vr]", stageRoot).hidden = true;
    } catch {
      announce("The headset could not start VR. Try again.");
    }
  }
}

async function endSession() {
  const session = page.session;
  page.generation++;
  await page.headset?.exit();
  await leaveStage();
  page.headset = null;
  let ended = session;
  if (session && page.api) ended = await page.api.endSession(session.id).catch(() => session);
  setAddress(null);
  $("#ended-title").textContent = "Session ended";
  $("#ended-outcome").hidden = true;
  const ran = page.openedAt ? formatDuration(Date.now() - page.openedAt) : null;
  $("#ended-summary").textContent = ended
    ? `${scenarioTitle(ended.scenario)}${ran ? `, ${ran} of training` : ""}. The training station has been released.`
    : "The training station has been released.";
  showView("ended");
}

/**
 * The scenario's end, as the trainee's last word on the session.
 * @param {import("./protocol.js").ScenarioUpdate} scenario
 */
function showOutcome(scenario) {
  const words = describeOutcome(/** @type {string} */ (scenario.outcome), scenario.message);
  setAddress(null);
  $("#ended-title").textContent = words.title;
  $("#ended-outcome").hidden = false;
  $("#ended-outcome").textContent = words.advice;
  $("#ended-summary").textContent = "The training station has been released.";
  showView("ended");
  announce(words.title);
}

function onHeadsetEnded() {
  // Leaving VR (the headset's system button, or taking it off) keeps the session:
  // the trainee can go back in, or end it from the page.
  if (page.stage) $("[data-role=vr]", stageRoot).hidden = false;
}

/** @param {import("./wording.js").Message} message */
function showProblem(message) {
  fillMessage($("#problem-card"), message);
  $("#problem-new").hidden = message.retry === false;
  setAddress(null);
  showView("problem");
  announce(message.title);
}

/** @param {unknown} error @returns {boolean} handled (signed out) */
function handleAuthError(error) {
  if (!(error instanceof ApiError) || error.status !== 401) return false;
  signOut();
  page.user = null;
  $("#account").hidden = true;
  $("#token-error").textContent = "Your sign-in has expired. Sign in again to continue.";
  showView("signin");
  return true;
}

/** @param {string | null} sessionId */
function setAddress(sessionId) {
  const url = new URL(location.href);
  if (sessionId) url.searchParams.set("session", sessionId);
  else url.searchParams.delete("session");
  if (url.toString() !== location.href) history.replaceState(null, "", url);
}
