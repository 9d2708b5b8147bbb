/**
 * The after-action log, read for a review: the JSON lines the orchestrator keeps per
 * session (GET /v1/sessions/{id}/aar; one entry per line, every entry with its scenario
 * time `t` and `kind`, see streamer/scenario/runtime.py) turned into a timeline, the
 * trainee's path on the floor plan, the scenario's zones, and event markers.
 *
 * Floor plan coordinates are the scene's metres seen from above: x to the right and z
 * down the page (glTF's +z points towards the viewer, so "down the page" is "south" in
 * the sample scenes). Pure functions, no DOM: unit-tested under node.
 */

import { formatClock } from "./ui.js";

/** @typedef {Record<string, any> & {t: number, kind: string}} Entry */
/** @typedef {{x: number, z: number}} Point */
/** @typedef {{id: string, x: number, z: number, r: number}} Zone */

/**
 * @typedef {object} Row  one line of the timeline
 * @property {number} t scenario seconds
 * @property {string} kind the entry kind ("pose" for a run of pose entries)
 * @property {string} label the kind in words
 * @property {string} details
 * @property {number | null} marker the number of this row's marker on the plot, if any
 */

/**
 * @typedef {object} Marker  an event placed on the path (at the pose nearest its time)
 * @property {number} n 1-based, as the timeline numbers it
 * @property {number} t
 * @property {string} kind
 * @property {string} text what happened, one line
 * @property {number} x
 * @property {number} z
 */

/** The kinds in words (C2 entry kinds). */
export const KIND_WORDS = Object.freeze({
  scenario_started: "Scenario started",
  pose: "Moving",
  trigger_fired: "Trigger fired",
  effect: "Effect",
  act: "Trainee acted",
  instructor: "Instructor",
  paused: "Paused",
  resumed: "Resumed",
  scenario_ended: "Scenario ended",
});

/** Entry kinds that get a marker on the path. */
const MARKED = new Set(["trigger_fired", "instructor"]);

const CAUSE_WORDS = {
  time_elapsed: "time elapsed",
  enters_zone: "entered its zone",
  looks_at: "looked at the object",
  acts_on: "acted on the object",
  instructor_event: "instructor event",
};

/**
 * Parses JSON lines; blank lines are skipped, and so are lines that are not an entry
 * (counted, so the page can say the file was damaged rather than hide it).
 * @param {string} text
 * @returns {{entries: Entry[], skipped: number}}
 */
export function parseLog(text) {
  /** @type {Entry[]} */
  const entries = [];
  let skipped = 0;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const entry = JSON.parse(line);
      if (entry && typeof entry === "object" && typeof entry.kind === "string" && Number.isFinite(entry.t)) entries.push(entry);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  if (entries.every((e) => Number.isInteger(e.seq))) entries.sort((a, b) => a.seq - b.seq);
  return { entries, skipped };
}

/**
 * The trainee's head positions on the floor plan, in order.
 * @param {Entry[]} entries
 * @returns {{points: Point[], times: number[]}}
 */
export function trail(entries) {
  /** @type {Point[]} */
  const points = [];
  /** @type {number[]} */
  const times = [];
  for (const e of entries) {
    if (e.kind !== "pose" || !Array.isArray(e.p) || !Number.isFinite(e.p[0]) || !Number.isFinite(e.p[2])) continue;
    points.push({ x: e.p[0], z: e.p[2] });
    times.push(e.t);
  }
  return { points, times };
}

/**
 * Metres walked along a path (horizontal).
 * @param {Point[]} points
 */
export function pathLength(points) {
  let total = 0;
  for (let i = 1; i < points.length; i++) total += Math.hypot(points[i].x - points[i - 1].x, points[i].z - points[i - 1].z);
  return total;
}

/**
 * The scenario's zones: every `enters_zone` trigger's circle, named by the trigger.
 * @param {{triggers?: {id: string, when: {kind: string, zone?: {center: number[], radius_m: number}}}[]} | null} scenario
 * @returns {Zone[]}
 */
export function zonesOf(scenario) {
  if (!scenario || !Array.isArray(scenario.triggers)) return [];
  return scenario.triggers
    .filter((trigger) => trigger.when && trigger.when.kind === "enters_zone" && trigger.when.zone)
    .map((trigger) => {
      const zone = /** @type {{center: number[], radius_m: number}} */ (trigger.when.zone);
      return { id: trigger.id, x: zone.center[0], z: zone.center[2], r: zone.radius_m };
    });
}

/**
 * Where the trainee starts, and the way they face (a unit vector on the floor plan:
 * yaw is about +y, 0 looks down −z).
 * @param {{start?: {position: number[], yaw_deg?: number}} | null} scenario
 * @returns {{x: number, z: number, dx: number, dz: number} | null}
 */
export function startOf(scenario) {
  if (!scenario || !scenario.start) return null;
  const yaw = ((scenario.start.yaw_deg || 0) * Math.PI) / 180;
  return { x: scenario.start.position[0], z: scenario.start.position[2], dx: -Math.sin(yaw), dz: -Math.cos(yaw) };
}

/** The ids of the triggers that fired, in order (with repeats for `once: false`). @param {Entry[]} entries */
export function firedTriggers(entries) {
  return entries.filter((e) => e.kind === "trigger_fired").map((e) => String(e.trigger));
}

/**
 * Index of the time in a sorted list nearest to `t` (-1 for an empty list).
 * @param {number[]} times ascending
 * @param {number} t
 */
export function nearestIndex(times, t) {
  if (times.length === 0) return -1;
  let lo = 0;
  let hi = times.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(times[lo - 1] - t) <= Math.abs(times[lo] - t)) return lo - 1;
  return lo;
}

/**
 * The timeline: every entry but poses, which are summarised (one row per run of
 * consecutive poses: how many, for how long, how far). Trigger firings and the
 * instructor's actions are numbered: those numbers label the markers on the plot.
 * @param {Entry[]} entries
 * @returns {Row[]}
 */
export function timeline(entries) {
  /** @type {Row[]} */
  const rows = [];
  /** @type {Entry[]} */
  let run = [];
  let marker = 0;
  const flush = () => {
    if (run.length === 0) return;
    const points = trail(run).points;
    const span = run[run.length - 1].t - run[0].t;
    const walked = pathLength(points);
    const details = `${run.length} position${run.length === 1 ? "" : "s"} over ${span.toFixed(1)} s, ${walked.toFixed(1)} m walked`;
    rows.push({ t: run[0].t, kind: "pose", label: KIND_WORDS.pose, details, marker: null });
    run = [];
  };
  for (const entry of entries) {
    if (entry.kind === "pose") {
      run.push(entry);
      continue;
    }
    flush();
    rows.push({
      t: entry.t,
      kind: entry.kind,
      label: KIND_WORDS[/** @type {keyof KIND_WORDS} */ (entry.kind)] || entry.kind,
      details: describeEntry(entry),
      marker: MARKED.has(entry.kind) ? ++marker : null,
    });
  }
  flush();
  return rows;
}

/**
 * The markers for the plot: trigger firings and instructor actions, each at the pose
 * nearest its time (the start point when no pose was logged).
 * @param {Entry[]} entries
 * @param {{x: number, z: number} | null} start
 * @returns {Marker[]}
 */
export function markers(entries, start) {
  const { points, times } = trail(entries);
  /** @type {Marker[]} */
  const out = [];
  let n = 0;
  for (const entry of entries) {
    if (!MARKED.has(entry.kind)) continue;
    n++;
    const i = nearestIndex(times, entry.t);
    const at = i >= 0 ? points[i] : start;
    if (!at) continue;
    out.push({ n, t: entry.t, kind: entry.kind, text: `${formatClock(entry.t)} ${describeEntry(entry)}`, x: at.x, z: at.z });
  }
  return out;
}

/**
 * One entry's details in words.
 * @param {Entry} e
 * @returns {string}
 */
export function describeEntry(e) {
  switch (e.kind) {
    case "scenario_started":
      return e.title ? `${e.title} (${e.scenario})` : String(e.scenario ?? "");
    case "pose":
      return Array.isArray(e.p) ? `at x ${num(e.p[0])} m, z ${num(e.p[2])} m` : "";
    case "trigger_fired":
      return `${e.trigger} (${CAUSE_WORDS[/** @type {keyof CAUSE_WORDS} */ (e.cause)] || e.cause})`;
    case "effect":
      return `${e.trigger}: ${describeEffect(e)}`;
    case "act":
      return `${e.action || "use"} ${e.object ? `on ${e.object}` : "(nothing in reach)"}`;
    case "instructor":
      return `${e.by}: ${describeInstruction(e)}`;
    case "paused":
    case "resumed":
      return e.by ? `by ${e.by}` : "";
    case "scenario_ended":
      return `${e.outcome}${e.message ? `: ${e.message}` : ""}${e.by ? ` (${e.by})` : ""}`;
    default: {
      const { t, kind, seq, at, ...rest } = e;
      return JSON.stringify(rest);
    }
  }
}

/** @param {Entry} e */
function describeInstruction(e) {
  if (e.action === "event") return `fired ${e.event}`;
  if (e.action === "end") return `ended the scenario${e.outcome ? ` (${e.outcome})` : ""}`;
  if (e.action === "pause") return "paused";
  if (e.action === "resume") return "resumed";
  return String(e.action);
}

/** @param {Entry} e */
function describeEffect(e) {
  switch (e.do) {
    case "show":
      return `show ${e.object}`;
    case "hide":
      return `hide ${e.object}`;
    case "switch_light":
      return `${e.object} switched ${e.lit ? "on" : "off"}`;
    case "flash_light":
      return `${e.object} flashes every ${e.period_s ?? 0.5} s${e.for_s ? ` for ${e.for_s} s` : ""}`;
    case "move_actor":
      return `${e.actor} walks ${e.path}`;
    case "set_fog":
      return `fog to ${num(e.density)}${e.over_s ? ` over ${e.over_s} s` : ""}`;
    case "caption":
      return `caption “${e.text}”`;
    case "end":
      return `end: ${e.outcome}${e.message ? `, “${e.message}”` : ""}`;
    default:
      return String(e.do);
  }
}

/** @param {unknown} v */
const num = (v) => (typeof v === "number" && Number.isFinite(v) ? String(Math.round(v * 100) / 100) : "?");

/**
 * The review's headline figures.
 * @param {Entry[]} entries
 */
export function summary(entries) {
  const ended = entries.find((e) => e.kind === "scenario_ended") || null;
  const last = entries.length ? entries[entries.length - 1].t : 0;
  return {
    duration: Math.max(0, ...entries.map((e) => e.t), last),
    outcome: ended ? /** @type {string | null} */ (ended.outcome ?? null) : null,
    message: ended ? /** @type {string | null} */ (ended.message ?? null) : null,
    endedBy: ended ? /** @type {string | null} */ (ended.by ?? null) : null,
    distance: pathLength(trail(entries).points),
    fired: firedTriggers(entries),
    instructorActions: entries.filter((e) => e.kind === "instructor").length,
    poses: trail(entries).points.length,
  };
}

/**
 * A "nice" grid step (1, 2 or 5 × 10ⁿ metres) giving about `ticks` steps over `span`.
 * @param {number} span
 * @param {number} [ticks]
 */
export function niceStep(span, ticks = 6) {
  const raw = Math.max(span, 1e-6) / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

/**
 * @typedef {object} Frame  metres → plot pixels
 * @property {number} scale pixels per metre (the same on both axes)
 * @property {{minX: number, maxX: number, minZ: number, maxZ: number}} bounds what the plot area shows, metres
 * @property {(x: number) => number} px
 * @property {(z: number) => number} py
 */

/**
 * Fits the view to the path, the zones and the start point (plus a margin), keeping
 * one scale for both axes so circles stay circles.
 * @param {{points: Point[], zones: Zone[], start?: {x: number, z: number} | null}} content
 * @param {{width: number, height: number, left: number, right: number, top: number, bottom: number}} box
 *   the SVG's size and the margins around the plot area (for the axes), pixels
 * @param {{marginM?: number, minSpanM?: number}} [options]
 * @returns {Frame}
 */
export function fitFrame(content, box, options = {}) {
  const marginM = options.marginM ?? 1;
  const minSpanM = options.minSpanM ?? 6;
  const xs = [];
  const zs = [];
  for (const p of content.points) {
    xs.push(p.x);
    zs.push(p.z);
  }
  for (const zone of content.zones) {
    xs.push(zone.x - zone.r, zone.x + zone.r);
    zs.push(zone.z - zone.r, zone.z + zone.r);
  }
  if (content.start) {
    xs.push(content.start.x);
    zs.push(content.start.z);
  }
  if (xs.length === 0) {
    xs.push(0);
    zs.push(0);
  }
  let minX = Math.min(...xs) - marginM;
  let maxX = Math.max(...xs) + marginM;
  let minZ = Math.min(...zs) - marginM;
  let maxZ = Math.max(...zs) + marginM;
  const areaW = box.width - box.left - box.right;
  const areaH = box.height - box.top - box.bottom;
  // Widen the shorter side so the area's aspect ratio holds and nothing is cut off.
  const spanX = Math.max(maxX - minX, minSpanM);
  const spanZ = Math.max(maxZ - minZ, minSpanM);
  const scale = Math.min(areaW / spanX, areaH / spanZ);
  const cx = (minX + maxX) / 2;
  const cz = (minZ + maxZ) / 2;
  minX = cx - areaW / scale / 2;
  maxX = cx + areaW / scale / 2;
  minZ = cz - areaH / scale / 2;
  maxZ = cz + areaH / scale / 2;
  return {
    scale,
    bounds: { minX, maxX, minZ, maxZ },
    px: (x) => box.left + (x - minX) * scale,
    py: (z) => box.top + (z - minZ) * scale,
  };
}
