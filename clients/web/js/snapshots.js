/**
 * Which of two scenario snapshots is the current one. The console hears of a scenario
 * on three paths at once: each command's answer, the live feed's `scenario` event, and
 * the snapshot it fetches after each `scenario-log` event. Answers on two connections
 * can arrive in either order, and a snapshot fetched just before the instructor ended
 * the scenario may land just after the end's own answer: shown, it would bring back
 * "Running" and forget the outcome the console has to report.
 *
 * The streamer numbers each snapshot (`seq`, the last after-action log entry it
 * includes: every start, trigger, command and pose sample is one), so the older of two
 * is the one with the lower number. An ended scenario never runs again, so a snapshot
 * without an outcome is older than one with it, numbered or not.
 */

/** @typedef {import("./api.js").ScenarioSnapshot} ScenarioSnapshot */

/**
 * @param {ScenarioSnapshot} candidate just arrived
 * @param {ScenarioSnapshot | null} shown what the page shows now
 * @returns {boolean} true when `candidate` was overtaken and must not be shown
 */
export function isOvertaken(candidate, shown) {
  if (!shown) return false;
  if (shown.outcome && !candidate.outcome) return true;
  return typeof candidate.seq === "number" && typeof shown.seq === "number" && candidate.seq < shown.seq;
}
