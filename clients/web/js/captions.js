/**
 * The running scenario on the stage: the caption the scenario shows the trainee, a
 * "Paused by the instructor" banner, and the outcome once it ended. Fed by the
 * streamer's `scenario` messages on the `frames` channel (protocol.js: ScenarioUpdate).
 *
 * The caption and the banner are ARIA live regions that stay in the page and are only
 * emptied (CSS hides them while empty): a region that appears together with its text
 * is often not read out, so screen-reader users would miss the instruction.
 */

import { describeOutcome, PAUSED_WORDS } from "./wording.js";
import { $ } from "./ui.js";

export class ScenarioOverlay {
  /** @param {HTMLElement} root an element holding data-role="caption|paused|outcome" */
  constructor(root) {
    this.caption = $("[data-role=caption]", root);
    this.paused = $("[data-role=paused]", root);
    this.outcome = $("[data-role=outcome]", root);
    /** @type {import("./protocol.js").ScenarioUpdate | null} */
    this.state = null;
  }

  /**
   * Shows an update (the stage has already dropped stale ones: see stage.js).
   * @param {import("./protocol.js").ScenarioUpdate} update
   */
  update(update) {
    this.state = update;
    setText(this.caption, update.caption || "");
    setText(this.paused, update.paused && !update.outcome ? PAUSED_WORDS : "");
    this.outcome.hidden = !update.outcome;
    if (update.outcome) {
      const words = describeOutcome(update.outcome, update.message);
      $("[data-field=title]", this.outcome).textContent = words.title;
      $("[data-field=advice]", this.outcome).textContent = words.advice;
      this.outcome.dataset.outcome = update.outcome;
    }
  }

  reset() {
    this.state = null;
    setText(this.caption, "");
    setText(this.paused, "");
    this.outcome.hidden = true;
  }
}

/**
 * Changes a live region's text only when it differs: rewriting the same words would
 * make screen readers say them again.
 * @param {HTMLElement} element
 * @param {string} text
 */
function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}
