/**
 * Sign-in handling (clients/web/js/auth.js): the token is taken from the login URL and
 * removed from it, claims are read to adapt the interface, expired tokens are dropped.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { currentSignIn, decodeClaims, roleOf, signIn, tokenFromUrl } from "../../../clients/web/js/auth.js";

/** An unsigned token with these claims (the client never verifies; the server does). */
const token = (/** @type {object} */ claims) =>
  `e30.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.sig`;

class MemoryStorage {
  constructor() { this.items = new Map(); }
  getItem(k) { return this.items.has(k) ? this.items.get(k) : null; }
  setItem(k, v) { this.items.set(k, String(v)); }
  removeItem(k) { this.items.delete(k); }
}

const future = () => Math.floor(Date.now() / 1000) + 3600;

describe("auth", () => {
  it("takes the token from the fragment or the query and removes it from the address", () => {
    assert.deepEqual(tokenFromUrl("http://h/#token=abc"), { token: "abc", cleanUrl: "http://h/" });
    assert.deepEqual(tokenFromUrl("http://h/?token=abc&x=1#view=2"), { token: "abc", cleanUrl: "http://h/?x=1#view=2" });
    assert.equal(tokenFromUrl("http://h/").token, null);
  });

  it("reads claims and the most privileged role", () => {
    assert.deepEqual(decodeClaims(token({ sub: "ann", role: "trainee" })), { sub: "ann", role: "trainee" });
    assert.equal(decodeClaims("garbage"), null);
    assert.equal(roleOf({ role: ["trainee", "operator"] }), "operator");
    assert.equal(roleOf({ role: "janitor" }), null);
  });

  it("stores a token handed over in the login URL and cleans the address bar", () => {
    const storage = new MemoryStorage();
    const t = token({ sub: "dev-operator", role: "operator", exp: future() });
    /** @type {string[]} */
    const replaced = [];
    const history = { state: null, replaceState: (_s, _t, url) => replaced.push(url) };
    const signedIn = currentSignIn({ location: /** @type {any} */ ({ href: `http://h/?token=${t}` }), history: /** @type {any} */ (history), storage: /** @type {any} */ (storage) });
    assert.equal(signedIn?.role, "operator");
    assert.deepEqual(replaced, ["http://h/"]);
    assert.equal(storage.getItem("ixstream.apiToken"), t);
  });

  it("forgets an expired token", () => {
    const storage = new MemoryStorage();
    assert.equal(signIn(token({ sub: "ann", role: "trainee", exp: 1000 }), /** @type {any} */ (storage)), null);
    assert.equal(storage.getItem("ixstream.apiToken"), null);
  });
});
