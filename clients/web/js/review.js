/**
 * The after-action review (review.html?session=<id>): what happened in a session's
 * scenario, for the debrief. It reads the session's after-action log (JSON lines, see
 * aar.js), the session (to learn its scenario) and the scenario document (its zones and
 * start point), then shows the headline figures, a floor plan of the trainee's path
 * with the zones and numbered event markers (SVG), and the timeline. The raw log can
 * be downloaded as it came. Instructors and operators only (the API enforces it).
 */

import { fitFrame, markers, niceStep, parseLog, startOf, summary, timeline, trail, zonesOf } from "./aar.js";
import { OrchestratorApi } from "./api.js";
import { currentSignIn, keepApiFresh } from "./auth.js";
import { $, fillMessage, formatClock, scenarioTitle, showView } from "./ui.js";
import { describeApiError, OUTCOME_LABELS } from "./wording.js";

/** @typedef {import("./aar.js").Entry} Entry */
/** @typedef {import("./aar.js").Frame} Frame */

const SVG = "http://www.w3.org/2000/svg";
/** The plot's size (it scales with the page) and the margins that hold the axes, px. */
const BOX = { width: 800, height: 560, left: 58, right: 16, top: 16, bottom: 50 };
const REVIEW_ROLES = ["instructor", "operator"];
const MARKER_R = 10;

const sessionId = new URLSearchParams(location.search).get("session");
const page = {
  /** @type {Entry[]} */
  entries: [],
  /** @type {import("./api.js").ScenarioDocument | null} */
  scenario: null,
  /** @type {string | null} a blob: URL of the raw log, for the download link */
  download: null,
};
/** @type {any} */ (window).ixClient = page;

$("#retry").addEventListener("click", () => void boot());
void boot();

async function boot() {
  const user = currentSignIn();
  if (!user) {
    problem({ title: "Sign in to review this session.", advice: "Open IX Stream's home page, sign in, then open this link again.", retry: false });
    return;
  }
  $("#who").hidden = false;
  $("#who-name").textContent = user.subject;
  $("#who-role").textContent = user.role || "";
  if (!sessionId) {
    problem({ title: "This link does not name a session.", advice: "Open the review from the list of training sessions.", retry: false });
    return;
  }
  if (!REVIEW_ROLES.includes(user.role || "")) {
    problem({ ...forInstructors(), detail: `signed in as ${user.subject} (${user.role || "no role"})` });
    return;
  }
  showView("loading");
  const api = new OrchestratorApi(user.token);
  keepApiFresh(api);
  // The log outlives the session record (the orchestrator forgets old sessions): the
  // log decides, the session only adds who and when.
  const [text, session] = await Promise.all([
    api.afterActionLog(sessionId).catch((/** @type {any} */ error) => error),
    api.getSession(sessionId).catch(() => null),
  ]);
  if (typeof text !== "string") {
    problem(logProblem(text));
    return;
  }
  const { entries, skipped } = parseLog(text);
  page.entries = entries;
  const started = entries.find((e) => e.kind === "scenario_started");
  const scenarioId = session?.scenario || (started ? String(started.scenario) : "");
  /** @type {string[]} */
  const notes = [];
  page.scenario = scenarioId
    ? await api.scenario(scenarioId).catch((error) => {
      notes.push(`The scenario document could not be read, so its zones are not shown (${error.detail || error.message}).`);
      return null;
    })
    : null;
  if (entries.length === 0) notes.push("The log is empty: the scenario never started (no trainee connected), or nothing has been recorded yet.");
  if (skipped > 0) notes.push(`${skipped} line${skipped === 1 ? " of the log is" : "s of the log are"} damaged and left out.`);
  renderHeader(session, scenarioId, text);
  renderSummary();
  renderPlot();
  renderTimeline();
  $("#notice").hidden = notes.length === 0;
  $("#notice").textContent = notes.join(" ");
  showView("review");
}

/**
 * @param {import("./api.js").Session | null} session
 * @param {string} scenarioId
 * @param {string} text the raw log
 */
function renderHeader(session, scenarioId, text) {
  const title = page.scenario ? page.scenario.title : scenarioId ? scenarioTitle(scenarioId) : "After-action review";
  $("#review-title").textContent = title;
  document.title = `IX Stream · ${title} · After-action review`;
  $("#review-meta").textContent = session
    ? `Trainee: ${session.owner} · ${new Date(session.created_at).toLocaleString()}`
    : `Session ${sessionId}`;
  if (page.download) URL.revokeObjectURL(page.download);
  page.download = URL.createObjectURL(new Blob([text], { type: "application/x-ndjson" }));
  const link = /** @type {HTMLAnchorElement} */ ($("#download"));
  link.href = page.download;
  link.download = `aar-${sessionId}.jsonl`;
}

function renderSummary() {
  const s = summary(page.entries);
  const outcome = s.outcome ? OUTCOME_LABELS[/** @type {keyof OUTCOME_LABELS} */ (s.outcome)] || s.outcome : "Not ended";
  $("#s-outcome").textContent = outcome;
  $("#s-duration").textContent = formatClock(s.duration);
  $("#s-distance").textContent = `${s.distance.toFixed(1)} m`;
  $("#s-fired").textContent = String(s.fired.length);
  $("#s-instructor").textContent = String(s.instructorActions);
  const message = [s.message, s.endedBy ? `Ended by ${s.endedBy.replace(/^trigger:/, "trigger ")}.` : ""].filter(Boolean).join(" ");
  $("#s-message").hidden = !message;
  $("#s-message").textContent = message;
}

function renderTimeline() {
  const rows = timeline(page.entries);
  $("#timeline-empty").hidden = rows.length > 0;
  $("#timeline").replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement("tr");
      tr.dataset.kind = row.kind;
      const cells = [row.marker === null ? "" : String(row.marker), formatClock(row.t), row.label, row.details];
      for (const [i, text] of cells.entries()) {
        const td = document.createElement("td");
        if (i < 2) td.className = "num";
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }),
  );
}

function renderPlot() {
  const { points } = trail(page.entries);
  const zones = zonesOf(page.scenario);
  const start = startOf(page.scenario);
  const fired = new Set(summary(page.entries).fired);
  const marks = markers(page.entries, start);
  const frame = fitFrame({ points, zones, start }, BOX);
  const svg = el("svg", {
    viewBox: `0 0 ${BOX.width} ${BOX.height}`, class: "floor-plan", role: "img", "aria-labelledby": "plot-title plot-desc",
  });
  const title = el("title", { id: "plot-title" });
  title.textContent = "The trainee's path on the floor plan";
  const desc = el("desc", { id: "plot-desc" });
  desc.textContent = plotDescription(points.length, zones.map((z) => `${z.id}${fired.has(z.id) ? " (fired)" : ""}`), marks.length);
  const clip = el("clipPath", { id: "plot-area" });
  clip.append(el("rect", { x: BOX.left, y: BOX.top, width: BOX.width - BOX.left - BOX.right, height: BOX.height - BOX.top - BOX.bottom }));
  svg.append(title, desc, clip, axes(frame));
  const content = el("g", { "clip-path": "url(#plot-area)" });
  for (const zone of zones) {
    const g = el("g", { class: `zone${fired.has(zone.id) ? " fired" : ""}`, "data-trigger": zone.id });
    g.append(el("circle", { cx: frame.px(zone.x), cy: frame.py(zone.z), r: zone.r * frame.scale }));
    // Above the circle: its centre is where the markers crowd.
    const label = el("text", { x: frame.px(zone.x), y: frame.py(zone.z) - zone.r * frame.scale - 6, "text-anchor": "middle" });
    label.textContent = zone.id;
    g.append(label);
    content.append(g);
  }
  if (points.length > 0) {
    const d = points.map((p, i) => `${i === 0 ? "M" : "L"}${frame.px(p.x).toFixed(1)} ${frame.py(p.z).toFixed(1)}`).join(" ");
    content.append(el("path", { class: "trail", d, "data-points": points.length }));
    const last = points[points.length - 1];
    content.append(el("circle", { class: "trail-end", cx: frame.px(last.x), cy: frame.py(last.z), r: 5 }));
  }
  if (start) {
    const g = el("g", { class: "start" });
    const sx = frame.px(start.x);
    const sy = frame.py(start.z);
    g.append(el("line", { x1: sx, y1: sy, x2: sx + start.dx * 22, y2: sy + start.dz * 22 }));
    g.append(el("circle", { cx: sx, cy: sy, r: 7 }));
    const label = el("text", { x: sx + 11, y: sy - 10 });
    label.textContent = "Start";
    g.append(label);
    content.append(g);
  }
  /** @type {{x: number, y: number}[]} */
  const placed = [];
  for (const mark of marks) {
    const at = clear(placed, frame.px(mark.x), frame.py(mark.z));
    placed.push(at);
    const g = el("g", { class: `marker ${mark.kind}`, "data-marker": mark.n });
    const hint = el("title");
    hint.textContent = `${mark.n}. ${mark.text}`;
    g.append(hint, el("circle", { cx: at.x, cy: at.y, r: MARKER_R }));
    const label = el("text", { x: at.x, y: at.y + 4, "text-anchor": "middle" });
    label.textContent = String(mark.n);
    g.append(label);
    content.append(g);
  }
  svg.append(content, scaleBar(frame));
  $("#plot").replaceChildren(svg);
}

/**
 * Where a marker goes so it does not hide an earlier one: events often happen at the
 * same spot (a trigger and the instructor's action that caused it), so later ones
 * move along to the right, in a row.
 * @param {{x: number, y: number}[]} placed
 * @param {number} x
 * @param {number} y
 */
function clear(placed, x, y) {
  let nx = x;
  while (placed.some((p) => Math.hypot(p.x - nx, p.y - y) < 2 * MARKER_R)) nx += 2 * MARKER_R + 2;
  return { x: nx, y };
}

/**
 * Grid lines every nice step, labelled in metres on the bottom (x) and left (z) edges.
 * @param {Frame} frame
 */
function axes(frame) {
  const g = el("g", { class: "axes" });
  const { minX, maxX, minZ, maxZ } = frame.bounds;
  const step = niceStep(Math.max(maxX - minX, maxZ - minZ), 8);
  const top = BOX.top;
  const bottom = BOX.height - BOX.bottom;
  const left = BOX.left;
  const right = BOX.width - BOX.right;
  g.append(el("rect", { class: "area", x: left, y: top, width: right - left, height: bottom - top }));
  for (let x = Math.ceil(minX / step) * step; x <= maxX; x += step) {
    const px = frame.px(x);
    g.append(el("line", { x1: px, y1: top, x2: px, y2: bottom }));
    const label = el("text", { x: px, y: bottom + 16, "text-anchor": "middle" });
    label.textContent = metres(x, step);
    g.append(label);
  }
  for (let z = Math.ceil(minZ / step) * step; z <= maxZ; z += step) {
    const py = frame.py(z);
    g.append(el("line", { x1: left, y1: py, x2: right, y2: py }));
    const label = el("text", { x: left - 6, y: py + 4, "text-anchor": "end" });
    label.textContent = metres(z, step);
    g.append(label);
  }
  const xTitle = el("text", { class: "axis-title", x: (left + right) / 2, y: BOX.height - 8, "text-anchor": "middle" });
  xTitle.textContent = "x (m)";
  const zTitle = el("text", {
    class: "axis-title", x: 14, y: (top + bottom) / 2, "text-anchor": "middle", transform: `rotate(-90 14 ${(top + bottom) / 2})`,
  });
  zTitle.textContent = "z (m)";
  g.append(xTitle, zTitle);
  return g;
}

/**
 * A bar of a round length in the bottom-right corner of the plot area.
 * @param {Frame} frame
 */
function scaleBar(frame) {
  const { minX, maxX } = frame.bounds;
  const length = niceStep(maxX - minX, 5);
  const w = length * frame.scale;
  const x2 = BOX.width - BOX.right - 14;
  const x1 = x2 - w;
  const y = BOX.height - BOX.bottom - 16;
  const g = el("g", { class: "scale-bar", "data-metres": length });
  g.append(
    el("line", { x1, y1: y, x2, y2: y }),
    el("line", { x1, y1: y - 5, x2: x1, y2: y + 5 }),
    el("line", { x1: x2, y1: y - 5, x2, y2: y + 5 }),
  );
  const label = el("text", { x: (x1 + x2) / 2, y: y - 8, "text-anchor": "middle" });
  label.textContent = `${length} m`;
  g.append(label);
  return g;
}

/** @param {number} v @param {number} step */
function metres(v, step) {
  const digits = step < 1 ? Math.min(3, Math.ceil(-Math.log10(step))) : 0;
  const text = v.toFixed(digits);
  return text === "-0" ? "0" : text;
}

/**
 * @param {number} poses
 * @param {string[]} zones
 * @param {number} events
 */
function plotDescription(poses, zones, events) {
  const path = poses > 0 ? `A path of ${poses} positions.` : "No positions were logged.";
  const zoneText = zones.length > 0 ? ` Zones: ${zones.join(", ")}.` : " No zones.";
  return `${path}${zoneText} ${events} numbered event${events === 1 ? "" : "s"}.`;
}

/**
 * @param {string} name
 * @param {Record<string, string | number>} [attributes]
 * @returns {SVGElement}
 */
function el(name, attributes = {}) {
  const node = /** @type {SVGElement} */ (document.createElementNS(SVG, name));
  for (const [key, value] of Object.entries(attributes)) {
    node.setAttribute(key, typeof value === "number" ? String(Math.round(value * 10) / 10) : value);
  }
  return node;
}

/** @returns {import("./wording.js").Message} */
function forInstructors() {
  return {
    title: "This page is for instructors.",
    advice: "Sign in with an instructor or operator account to review a session.",
    retry: false,
  };
}

/**
 * @param {any} error an ApiError from one of the downloads
 * @returns {import("./wording.js").Message}
 */
function logProblem(error) {
  if (error.status === 403) return { ...forInstructors(), detail: error.detail };
  if (error.status === 404) {
    return {
      title: "There is no after-action log for this session.",
      advice: "Logs are kept for sessions that ran a scenario, for a limited time. Check the link, or pick another session.",
      detail: error.detail, retry: true,
    };
  }
  return describeApiError(error);
}

/** @param {import("./wording.js").Message} message */
function problem(message) {
  fillMessage($("#problem-card"), message);
  $("#retry").hidden = message.retry === false;
  showView("problem");
}
