/**
 * Plain words for trainers (clients/web/js/wording.js): every known failure and end
 * reason has its own message, unknown ones still get a calm one, and API errors say
 * what to do next.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { describeApiError, describeConnectionProblem, describeOutcome, describeSessionEnd, queueWords } from "../../../clients/web/js/wording.js";

const FAILURES = ["spawn_failed", "start_timeout", "streamer_exited", "streamer_unresponsive", "lost_on_restart"];

describe("wording", () => {
  it("explains each way a session can fail without engineering terms", () => {
    const titles = new Set();
    for (const reason of FAILURES) {
      const m = describeSessionEnd({ state: "failed", reason, detail: "exit code -9" });
      assert.ok(m.title && m.advice, reason);
      assert.doesNotMatch(`${m.title} ${m.advice}`, /streamer|exit|code|_/i, reason);
      assert.match(/** @type {string} */ (m.detail), new RegExp(reason));
      titles.add(m.title);
    }
    assert.ok(titles.size >= 4, "failures are told apart");
  });

  it("reassures a trainee that a crash was not their fault", () => {
    assert.match(describeSessionEnd({ state: "failed", reason: "streamer_exited" }).advice, /not caused by anything you did/);
  });

  it("still says something sensible for a reason it does not know", () => {
    const m = describeSessionEnd({ state: "failed", reason: "cosmic_ray" });
    assert.match(m.title, /problem on the platform/);
    assert.equal(describeSessionEnd({ state: "ended", reason: "max_duration" }).title, "The session reached its time limit.");
    // How it ended is the scenario's to say (describeOutcome); without it, still not "deleted".
    assert.equal(describeSessionEnd({ state: "ended", reason: "scenario_ended" }).title, "The scenario has ended.");
  });

  it("turns API problems into next steps", () => {
    assert.match(describeApiError({ status: 429, problemType: "urn:ixstream:problem:capacity-exhausted", retryAfterS: 5 }).advice, /few seconds/);
    assert.match(describeApiError({ status: 429, problemType: "urn:ixstream:problem:queue-full", retryAfterS: 120 }).advice, /2 minutes/);
    assert.match(describeApiError({ status: 401 }).advice, /Sign in/);
    assert.match(describeApiError({ status: 0 }).title, /cannot be reached/);
    assert.match(describeApiError({ status: 503 }).title, /cannot start sessions/);
  });

  it("points a blocked network at the IT team", () => {
    assert.match(describeConnectionProblem("no_media").advice, /IT team/);
  });

  it("tells a queued trainee their place in line", () => {
    assert.equal(queueWords(1), "You are next in line for a training station.");
    assert.equal(queueWords(3), "You are number 3 in line for a training station.");
  });

  it("tells a trainee how the scenario ended, in the scenario's own words when it has some", () => {
    const success = describeOutcome("success", "You left by the north exit.");
    assert.match(success.title, /well done/i);
    assert.equal(success.advice, "You left by the north exit.");
    const titles = new Set(["success", "partial", "failure"].map((o) => describeOutcome(o).title));
    assert.equal(titles.size, 3, "outcomes are told apart");
    assert.ok(describeOutcome("failure").advice, "a general line when there is no message");
    assert.equal(describeOutcome("aborted").detail, "aborted", "an unknown outcome still reads calmly");
  });
});
