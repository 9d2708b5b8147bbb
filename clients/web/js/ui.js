/**
 * Small DOM helpers shared by the pages, and plain formatting of numbers for people.
 * No framework: the pages are a handful of views toggled with `hidden`.
 */

/**
 * @template {HTMLElement} T
 * @param {string} selector
 * @param {ParentNode} [root]
 * @returns {T}
 */
export function $(selector, root = document) {
  const found = root.querySelector(selector);
  if (!found) throw new Error(`missing element ${selector}`);
  return /** @type {T} */ (found);
}

/**
 * Shows one of a group of views (elements with `data-view`) and hides the others;
 * moves focus to the new view's heading so screen-reader and keyboard users follow.
 * @param {string} name
 */
export function showView(name) {
  for (const view of document.querySelectorAll("[data-view]")) {
    /** @type {HTMLElement} */ (view).hidden = view.getAttribute("data-view") !== name;
  }
  const heading = /** @type {HTMLElement | null} */ (document.querySelector(`[data-view="${name}"] h1, [data-view="${name}"] h2`));
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

/**
 * Says something to screen-reader users without moving focus (an ARIA live region).
 * @param {string} text
 */
export function announce(text) {
  const region = document.getElementById("announcer");
  if (region) region.textContent = text;
}

/**
 * Fills a problem card (elements with data-field="title|advice|detail").
 * @param {HTMLElement} card
 * @param {import("./wording.js").Message} message
 */
export function fillMessage(card, message) {
  $("[data-field=title]", card).textContent = message.title;
  $("[data-field=advice]", card).textContent = message.advice;
  const detail = /** @type {HTMLElement} */ ($("[data-field=detail]", card));
  detail.textContent = message.detail || "";
  const details = detail.closest("details");
  if (details) /** @type {HTMLElement} */ (details).hidden = !message.detail;
}

/**
 * "1 h 05 min", "4 min 12 s", "35 s".
 * @param {number} ms
 */
export function formatDuration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h} h ${String(m).padStart(2, "0")} min`;
  if (m > 0) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  return `${s} s`;
}

/**
 * A scenario's machine name as a title: "street-corner_night" → "Street corner night".
 * @param {string} name
 */
export function scenarioTitle(name) {
  const words = name.replace(/[-_]+/g, " ").trim();
  return words ? words[0].toUpperCase() + words.slice(1) : name;
}

/**
 * Copies text, falling back to a selectable prompt where the Clipboard API is refused
 * (it needs a secure context and focus).
 * @param {string} text
 * @returns {Promise<boolean>}
 */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    window.prompt("Copy this link:", text);
    return false;
  }
}

/**
 * Scenario time as a clock: 65.27 → "01:05.3" (minutes run past 59: "75:00.0").
 * @param {number} seconds
 */
export function formatClock(seconds) {
  const tenths = Math.max(0, Math.round((Number.isFinite(seconds) ? seconds : 0) * 10));
  const m = Math.floor(tenths / 600);
  const s = (tenths % 600) / 10;
  return `${String(m).padStart(2, "0")}:${s.toFixed(1).padStart(4, "0")}`;
}

/**
 * A link to another page about one session (instructor console, view, review), opened in
 * a new tab so the list it sits in stays put. `rel="opener"`: the sign-in lives in
 * sessionStorage (auth.js), which a browser copies only into a tab its opener opened
 * (HTML's "copy session storage"); the page is our own origin, so there is no
 * reverse-tabnabbing to guard against.
 * @param {"instruct" | "watch" | "review"} target
 * @param {{id: string}} session
 * @param {string} text
 * @param {string} label the accessible name, naming the session
 * @param {boolean} [primary] styled as the row's main action
 */
export function sessionPageLink(target, session, text, label, primary = false) {
  const link = document.createElement("a");
  link.className = primary ? "btn btn-primary" : "btn";
  link.href = `${target}.html?session=${encodeURIComponent(session.id)}`;
  link.target = "_blank";
  link.rel = "opener";
  link.textContent = text;
  link.setAttribute("aria-label", label);
  return link;
}

/**
 * A session row's text: its title, when it started and on what, and its state badge.
 * @param {{state: string, created_at: string, client: string}} session
 * @param {string} title
 * @returns {[HTMLDivElement, HTMLSpanElement]}
 */
export function sessionSummary(session, title) {
  const text = document.createElement("div");
  text.className = "grow";
  const name = document.createElement("strong");
  name.textContent = title;
  const meta = document.createElement("div");
  meta.className = "muted small";
  meta.textContent = `Started ${new Date(session.created_at).toLocaleTimeString()} · ${session.client === "headset" ? "VR headset" : "screen"}`;
  text.append(name, meta);
  const badge = document.createElement("span");
  badge.className = `badge ${session.state}`;
  badge.textContent = session.state;
  return [text, badge];
}
