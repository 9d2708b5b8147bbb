/**
 * The sign-in protocol's pure parts (clients/web/js/oidc.js): the PKCE S256 challenge
 * against RFC 7636's own example, reading an authorization response out of an address,
 * when to refresh, the logout address, and the checks that refuse an answer before or
 * after the token request (state, issuer, nonce). The whole flow against a real provider
 * runs in tests/web/test_sign_in.py.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { keepSignedIn } from "../../../clients/web/js/auth.js";
import { authorizationResponse, beginSignIn, completeSignIn, pkceChallenge, randomToken, refreshDelayMs, SignInError, signOutUrl } from "../../../clients/web/js/oidc.js";

class MemoryStorage {
  constructor() { this.items = new Map(); }
  getItem(k) { return this.items.has(k) ? this.items.get(k) : null; }
  setItem(k, v) { this.items.set(k, String(v)); }
  removeItem(k) { this.items.delete(k); }
}

const ISSUER = "https://id.example/realms/fire";
const config = { issuer: ISSUER, client_id: "ixstream-web", scopes: "openid profile", redirect_path: "/", organisation: "Fire" };
const discovery = { issuer: ISSUER, authorization_endpoint: `${ISSUER}/auth`, token_endpoint: `${ISSUER}/token`, end_session_endpoint: `${ISSUER}/logout` };

/** An unsigned JWT with these claims. */
const jwt = (/** @type {object} */ claims) => `e30.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.sig`;

/** Starts a sign-in into `storage` and returns the parameters it sent the browser with. */
async function started(storage, returnTo = "") {
  /** @type {string[]} */
  const assigned = [];
  await beginSignIn(config, discovery, { storage, returnTo, location: /** @type {any} */ ({ origin: "https://ix.example", assign: (u) => assigned.push(u) }) });
  return new URL(assigned[0]).searchParams;
}

/** A token endpoint that must not be reached. */
const unreachableFetch = /** @type {any} */ (async () => { throw new Error("no request may be sent"); });

describe("oidc", () => {
  it("derives the S256 challenge of RFC 7636 appendix B", async () => {
    assert.equal(await pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    assert.match(randomToken(), /^[A-Za-z0-9_-]{43}$/);
  });

  it("sends the browser to the provider with state, nonce and a PKCE challenge", async () => {
    const q = await started(new MemoryStorage());
    assert.equal(q.get("response_type"), "code");
    assert.equal(q.get("client_id"), "ixstream-web");
    assert.equal(q.get("redirect_uri"), "https://ix.example/");
    assert.equal(q.get("code_challenge_method"), "S256");
    assert.match(String(q.get("code_challenge")), /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(q.get("state"), q.get("nonce"));
  });

  it("reads an authorization response and cleans it out of the address", () => {
    const { response, cleanUrl } = authorizationResponse("https://ix.example/?code=c1&state=s1&iss=https%3A%2F%2Fid.example&session=abc");
    assert.deepEqual(response, { code: "c1", state: "s1", error: null, errorDescription: null, iss: "https://id.example" });
    assert.equal(cleanUrl, "https://ix.example/?session=abc");
    assert.equal(authorizationResponse("https://ix.example/?session=abc").response, null);
  });

  it("refuses an answer whose state it did not send, or from another issuer, before any request", async () => {
    const storage = new MemoryStorage();
    const q = await started(storage);
    const forged = { code: "c", state: "forged", error: null, errorDescription: null, iss: null };
    await assert.rejects(completeSignIn(config, discovery, forged, { storage, origin: "https://ix.example", fetchImpl: unreachableFetch }), (e) => e instanceof SignInError && e.kind === "state");
    // The pending sign-in is used up by that attempt: the real answer is refused too.
    const late = { ...forged, state: String(q.get("state")) };
    await assert.rejects(completeSignIn(config, discovery, late, { storage, origin: "https://ix.example", fetchImpl: unreachableFetch }), (e) => e instanceof SignInError && e.kind === "state");
    const q2 = await started(storage);
    const mixedUp = { ...forged, state: String(q2.get("state")), iss: "https://evil.example" };
    await assert.rejects(completeSignIn(config, discovery, mixedUp, { storage, origin: "https://ix.example", fetchImpl: unreachableFetch }), /RFC 9207/);
  });

  it("calls access_denied a denial", async () => {
    const storage = new MemoryStorage();
    const q = await started(storage);
    const denied = { code: null, state: String(q.get("state")), error: "access_denied", errorDescription: "End-User aborted interaction", iss: ISSUER };
    await assert.rejects(completeSignIn(config, discovery, denied, { storage, origin: "https://ix.example", fetchImpl: unreachableFetch }), (e) => e instanceof SignInError && e.kind === "denied");
  });

  it("refuses an ID token that answers another sign-in (nonce) and keeps nothing", async () => {
    const storage = new MemoryStorage();
    const q = await started(storage);
    const idToken = jwt({ iss: ISSUER, aud: "ixstream-web", nonce: "someone-else's", exp: Date.now() / 1000 + 300 });
    const provider = /** @type {any} */ (async () => new Response(JSON.stringify({ access_token: "a", id_token: idToken, expires_in: 60 }), { status: 200 }));
    const answer = { code: "c", state: String(q.get("state")), error: null, errorDescription: null, iss: ISSUER };
    await assert.rejects(completeSignIn(config, discovery, answer, { storage, origin: "https://ix.example", fetchImpl: provider }), /nonce differs/);
    assert.equal(storage.getItem("ixstream.oidc.tokens"), null);
  });

  it("keeps the tokens and goes back to where the sign-in started, on this origin only", async () => {
    for (const [returnTo, expected] of [["/?session=abc", "/?session=abc"], ["https://evil.example/x", ""]]) {
      const storage = new MemoryStorage();
      const q = await started(storage, returnTo);
      const idToken = jwt({ iss: ISSUER, aud: ["ixstream-web"], nonce: q.get("nonce"), exp: Date.now() / 1000 + 300 });
      /** @type {URLSearchParams[]} */
      const sent = [];
      const provider = /** @type {any} */ (async (/** @type {string} */ _url, /** @type {any} */ init) => {
        sent.push(new URLSearchParams(init.body));
        return new Response(JSON.stringify({ access_token: "a", refresh_token: "r", id_token: idToken, expires_in: 60 }), { status: 200 });
      });
      const answer = { code: "c", state: String(q.get("state")), error: null, errorDescription: null, iss: ISSUER };
      const done = await completeSignIn(config, discovery, answer, { storage, origin: "https://ix.example", fetchImpl: provider });
      assert.equal(done.returnTo, expected);
      assert.equal(done.tokens.refreshToken, "r");
      assert.equal(JSON.parse(String(storage.getItem("ixstream.oidc.tokens"))).accessToken, "a");
      // The verifier whose challenge went to the provider goes to the token endpoint.
      assert.equal(await pkceChallenge(String(sent[0].get("code_verifier"))), q.get("code_challenge"));
      assert.equal(sent[0].get("redirect_uri"), "https://ix.example/");
    }
  });

  it("refreshes once four fifths of the token's life are gone, at once when late", () => {
    const tokens = /** @type {any} */ ({ issuedAt: 1000, expiresAt: 1010 });
    assert.equal(refreshDelayMs(tokens, 1000), 8000);
    assert.equal(refreshDelayMs({ ...tokens, expiresAt: 1000 + 300 }, 1100), 140 * 1000);
    assert.equal(refreshDelayMs(tokens, 2000), 0);
  });

  it("asks to sign in again once a token without a refresh token expires", async () => {
    const storage = new MemoryStorage();
    const now = Math.floor(Date.now() / 1000);
    const tokens = { accessToken: "a", refreshToken: null, idToken: null, issuedAt: now - 60, expiresAt: now - 1, issuer: ISSUER, clientId: "ixstream-web", tokenEndpoint: `${ISSUER}/token`, endSessionEndpoint: null, redirectUri: "https://ix.example/" };
    storage.setItem("ixstream.oidc.tokens", JSON.stringify(tokens));
    storage.setItem("ixstream.apiToken", "a");
    /** @type {string[]} */
    const renewed = [];
    const lost = await new Promise((resolve) => keepSignedIn((t) => renewed.push(t), resolve, /** @type {any} */ (storage)));
    assert.ok(lost instanceof SignInError);
    assert.equal(/** @type {SignInError} */ (lost).kind, "expired");
    assert.deepEqual(renewed, []);
  });

  it("ends the provider's session with the ID token as a hint and comes back here", () => {
    const url = new URL(String(signOutUrl(/** @type {any} */ ({ endSessionEndpoint: `${ISSUER}/logout`, idToken: "id", clientId: "ixstream-web", redirectUri: "https://ix.example/" }))));
    assert.equal(url.searchParams.get("id_token_hint"), "id");
    assert.equal(url.searchParams.get("post_logout_redirect_uri"), "https://ix.example/");
    assert.equal(signOutUrl(/** @type {any} */ ({ endSessionEndpoint: null })), null);
  });
});
