/**
 * The peer connection's ICE configuration (clients/web/js/stream.js): the servers the
 * orchestrator handed out with the token, null members dropped, and the relay-only
 * policy that `?relay=1` asks for.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { NoCandidatesError, problemKind, relayRequested, rtcConfiguration } from "../../../clients/web/js/stream.js";
import { WhepError } from "../../../clients/web/js/whep.js";

const TURN = { urls: ["turn:turn.site:3478?transport=udp", "turns:turn.site:443"], username: "1700000600:s-1", credential: "c3VwZXI=" };
const STUN = { urls: ["stun:stun.site:3478"], username: null, credential: null };
const endpoint = (/** @type {any} */ iceServers) => ({ url: "/whep", token: "t", iceServers });
const options = { endpoint: async () => endpoint([]), drives: false };

describe("rtcConfiguration", () => {
  it("passes the endpoint's servers on, without null members", () => {
    const config = rtcConfiguration(endpoint([STUN, TURN]), options);
    assert.deepEqual(config.iceServers, [{ urls: ["stun:stun.site:3478"] }, TURN]);
    assert.equal(config.iceTransportPolicy, "all");
  });

  it("uses no server at all when none is handed out (no public STUN)", () => {
    assert.deepEqual(rtcConfiguration({ url: "/whep", token: null }, options).iceServers, []);
    assert.deepEqual(rtcConfiguration(endpoint([]), { ...options, iceServers: [{ urls: "stun:x" }] }).iceServers, []);
  });

  it("falls back to the options' servers when the endpoint names none", () => {
    const config = rtcConfiguration({ url: "/whep", token: null }, { ...options, iceServers: [{ urls: ["stun:x"] }] });
    assert.deepEqual(config.iceServers, [{ urls: ["stun:x"] }]);
  });

  it("forces relay candidates only when asked", () => {
    assert.equal(rtcConfiguration(endpoint([TURN]), { ...options, relayOnly: true }).iceTransportPolicy, "relay");
  });
});

describe("relayRequested", () => {
  it("reads ?relay=1 (or true) and nothing else", () => {
    assert.equal(relayRequested("?relay=1"), true);
    assert.equal(relayRequested("?session=s-1&relay=true"), true);
    assert.equal(relayRequested("?relay=0"), false);
    assert.equal(relayRequested(""), false);
  });
});

describe("problemKind", () => {
  it("says the relay refused when a relay-only offer gathered nothing", () => {
    const none = new NoCandidatesError("no ICE candidate was gathered: turn:t answered 401 Unauthorized");
    assert.equal(problemKind(none, { ...options, relayOnly: true }), "relay_refused");
    assert.equal(problemKind(none, options), "no_media");
  });

  it("keeps refusals and losses apart", () => {
    assert.equal(problemKind(new WhepError(403, "forbidden"), options), "rejected");
    assert.equal(problemKind(new WhepError(0, "unreachable"), options), "lost");
  });
});
