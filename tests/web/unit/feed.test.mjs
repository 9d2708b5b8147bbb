/**
 * The live feed's client (clients/web/js/feed.js): the event-stream parser follows
 * WHATWG HTML §9.2.6 (split lines, comments, ids kept across events, retry), and the
 * feed itself, against a real HTTP server in this process, sends the bearer token,
 * reconnects with Last-Event-ID after a drop, reloads its snapshot on `ready` and on
 * `reset`, and stops for good on 401.
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { describe, it } from "node:test";

import { EventStreamParser, LiveFeed, upsert } from "../../../clients/web/js/feed.js";

describe("EventStreamParser", () => {
  it("dispatches an event on the blank line, whatever the line endings and chunking", () => {
    const parser = new EventStreamParser();
    const text = 'retry: 1500\r\n\r\nid: e-1\nevent: session\ndata: {"a":\ndata: 1}\r\r: heartbeat\n\nevent: pool\ndata: {}\n\n';
    const events = [];
    for (const char of text) events.push(...parser.push(new TextEncoder().encode(char)));
    assert.deepEqual(events, [
      { type: "session", data: '{"a":\n1}', id: "e-1" },
      { type: "pool", data: "{}", id: "e-1" },
    ]);
    assert.equal(parser.retryMs, 1500);
  });

  it("waits for the LF after a CR that ends a chunk", () => {
    const parser = new EventStreamParser();
    assert.deepEqual(parser.push("data: x\r"), []);
    assert.deepEqual(parser.push("\n\r\n"), [{ type: "message", data: "x", id: "" }]);
  });

  it("ignores fields it does not know and a bad retry, and an event with no data", () => {
    const parser = new EventStreamParser();
    assert.deepEqual(parser.push("retry: soon\nfoo: bar\nevent: nothing\n\n"), []);
    assert.equal(parser.retryMs, null);
  });
});

describe("upsert", () => {
  it("replaces a session by id and appends a new one", () => {
    const list = [{ id: "a", state: "ready" }];
    assert.deepEqual(upsert(list, { id: "a", state: "active" }), [{ id: "a", state: "active" }]);
    assert.equal(upsert(list, { id: "b", state: "pending" }).length, 2);
    assert.equal(list[0].state, "ready");
  });

  it("keeps a newer session than the event it is sent", () => {
    const list = [{ id: "a", state: "ready", updated_at: "2026-01-01T10:00:02Z" }];
    assert.equal(upsert(list, { id: "a", state: "starting", updated_at: "2026-01-01T10:00:01Z" }), list);
    assert.equal(upsert(list, { id: "a", state: "active", updated_at: "2026-01-01T10:00:02Z" })[0].state, "active");
  });
});

/** A server that answers each connection with the next scripted behaviour. */
async function scriptedServer(script) {
  const seen = [];
  const server = createServer((request, response) => {
    seen.push({ auth: request.headers.authorization, last: request.headers["last-event-id"] ?? null });
    const step = script[Math.min(seen.length - 1, script.length - 1)];
    step(response);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, seen, url: `http://127.0.0.1:${server.address().port}` };
}

function until(predicate, what) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 10_000;
    const check = () => {
      if (predicate()) resolve();
      else if (Date.now() > deadline) reject(new Error(`${what}: did not happen in 10 s`));
      else setTimeout(check, 10);
    };
    check();
  });
}

describe("LiveFeed", () => {
  it("resumes after a drop with Last-Event-ID, and reloads its snapshot only when it must", async () => {
    const stream = (body, end) => (response) => {
      response.writeHead(200, { "Content-Type": "text/event-stream" });
      response.write(body);
      if (end) response.end();
    };
    const { server, seen, url } = await scriptedServer([
      stream('retry: 10\n\nevent: ready\ndata: {}\n\nid: e-1\nevent: session\ndata: {"id":"s1"}\n\n', true),
      stream('retry: 10\n\nid: e-1\nevent: ready\ndata: {}\n\nid: e-2\nevent: session\ndata: {"id":"s2"}\n\n', true),
      stream("retry: 10\n\nid: e-9\nevent: ready\ndata: {}\n\nid: e-9\nevent: reset\ndata: {}\n\n", false),
    ]);
    const events = [];
    let snapshots = 0;
    const feed = new LiveFeed("tok", { baseUrl: url, onEvent: (type, data) => events.push([type, data.id]), onSnapshot: () => void (snapshots += 1) });
    feed.start();
    try {
      await until(() => seen.length >= 3 && snapshots >= 2, "a third connection and a reset");
      assert.deepEqual(events, [["session", "s1"], ["session", "s2"]]);
      assert.deepEqual(seen.slice(0, 3), [
        { auth: "Bearer tok", last: null },
        { auth: "Bearer tok", last: "e-1" },
        { auth: "Bearer tok", last: "e-2" },
      ]);
      assert.equal(snapshots, 2); // the first connection and the reset, not the resume
    } finally {
      feed.stop();
      server.closeAllConnections();
      server.close();
    }
  });

  it("stops for good when the server refuses the token", async () => {
    const { server, seen, url } = await scriptedServer([
      (response) => {
        response.writeHead(401, { "Content-Type": "application/problem+json" });
        response.end(JSON.stringify({ detail: "the bearer token was refused: expired" }));
      },
    ]);
    const statuses = [];
    const feed = new LiveFeed("old", { baseUrl: url, onEvent: () => {}, onSnapshot: () => {}, onStatus: (s, e) => statuses.push([s, e?.message]) });
    feed.start();
    try {
      await until(() => statuses.length > 0, "a status");
      assert.deepEqual(statuses, [["refused", "the bearer token was refused: expired"]]);
      assert.equal(seen.length, 1);
    } finally {
      feed.stop();
      server.close();
    }
  });
});
