/**
 * Sign-in with the organisation's identity provider: the OpenID Connect
 * authorization-code flow with PKCE, run by the page itself (OAuth 2.0 for
 * Browser-Based Apps, a public client with no secret).
 *
 * 1. The orchestrator says which provider (`GET /v1/auth/config`); the provider's
 *    discovery document says where its endpoints are (OIDC Discovery 1.0 §4).
 * 2. `beginSignIn` sends the browser to the authorization endpoint with a fresh
 *    `state` (CSRF, RFC 6749 §10.12), `nonce` (replay, OIDC Core §3.1.2.1) and PKCE S256
 *    challenge (RFC 7636 §4.2), kept in sessionStorage for the return trip.
 * 3. `completeSignIn` checks `state` (and `iss`, RFC 9207), exchanges the code with the
 *    verifier, and checks the ID token's `nonce`, `iss`, `aud` and `exp` (OIDC Core
 *    §3.1.3.7). The ID token's signature is not checked here: it came straight from the
 *    token endpoint over the connection the page opened, which §3.1.3.7 item 6 allows in
 *    place of a signature check; the orchestrator verifies every access token it gets.
 * 4. `refreshTokens` uses the refresh_token grant (RFC 6749 §6) before the access token
 *    expires; `signOutUrl` is RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
 *
 * Tokens stay in sessionStorage, like the dev-mode token (auth.js says why).
 */

const PENDING_KEY = "ixstream.oidc.pending";
const TOKENS_KEY = "ixstream.oidc.tokens";
/** A sign-in left unfinished longer than this is refused (the provider's code expires sooner). */
const PENDING_MAX_AGE_MS = 10 * 60 * 1000;
/** Seconds of clock difference tolerated between this device and the provider. */
const CLOCK_SKEW_S = 120;

/**
 * @typedef {object} SignInConfig  orchestrator/api/routes/auth_config.py: OidcSignIn
 * @property {string} issuer
 * @property {string} client_id
 * @property {string} scopes
 * @property {string} redirect_path
 * @property {string} organisation
 */

/**
 * @typedef {object} Discovery  the parts of the provider's discovery document used here
 * @property {string} issuer
 * @property {string} authorization_endpoint
 * @property {string} token_endpoint
 * @property {string} [end_session_endpoint]
 */

/**
 * @typedef {object} TokenSet  what the page keeps between loads and pages
 * @property {string} accessToken
 * @property {string | null} refreshToken
 * @property {string | null} idToken
 * @property {number} expiresAt Unix seconds
 * @property {number} issuedAt Unix seconds
 * @property {string} issuer
 * @property {string} clientId
 * @property {string} tokenEndpoint
 * @property {string | null} endSessionEndpoint
 * @property {string} redirectUri
 */

/**
 * Why a sign-in did not finish, by meaning; sign-in-view.js puts it in words.
 * `unreachable`: the provider (or the orchestrator) did not answer; `denied`: the user
 * or the provider refused (`access_denied`); `state`: the answer does not belong to a
 * sign-in this tab started (wrong or missing `state`, another issuer, a stale attempt);
 * `token`: the provider answered, but not with tokens we can accept (a nonce mismatch,
 * a refused code); `provider`: the provider reported another error; `expired`: a
 * sign-in that worked has ended (no refresh token, or the provider refused it).
 */
export class SignInError extends Error {
  /**
   * @param {"unreachable" | "denied" | "state" | "token" | "provider" | "expired"} kind
   * @param {string} detail
   */
  constructor(kind, detail) {
    super(detail);
    this.name = "SignInError";
    this.kind = kind;
  }
}

/**
 * How this site signs in: its OIDC settings, or null for links and access codes.
 * @param {typeof fetch} [fetchImpl]
 * @returns {Promise<SignInConfig | null>}
 */
export async function loadSignInConfig(fetchImpl = fetch) {
  const body = await getJson(fetchImpl, "/v1/auth/config", "the training platform");
  return body && typeof body === "object" && body.oidc ? /** @type {SignInConfig} */ (body.oidc) : null;
}

/**
 * The provider's discovery document; its `issuer` must be the configured one exactly
 * (OIDC Discovery 1.0 §4.3), else a look-alike could hand out tokens.
 * @param {SignInConfig} config
 * @param {typeof fetch} [fetchImpl]
 * @returns {Promise<Discovery>}
 */
export async function discover(config, fetchImpl = fetch) {
  const url = `${config.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
  const doc = await getJson(fetchImpl, url, config.organisation);
  if (!doc || doc.issuer !== config.issuer || !doc.authorization_endpoint || !doc.token_endpoint) {
    throw new SignInError("provider", `the discovery document at ${url} does not describe issuer ${config.issuer}`);
  }
  return /** @type {Discovery} */ (doc);
}

/**
 * Sends the browser to the provider's sign-in page. `returnTo` (a path on this origin,
 * e.g. `/?session=…`) is where the page goes once signed in: the redirect URI itself is
 * fixed, as the provider registers it exactly.
 * @param {SignInConfig} config
 * @param {Discovery} discovery
 * @param {{storage?: Storage, location?: Location, returnTo?: string}} [env]
 */
export async function beginSignIn(config, discovery, env = {}) {
  const storage = env.storage || globalThis.sessionStorage;
  const location = env.location || globalThis.location;
  const pending = { state: randomToken(), nonce: randomToken(), verifier: randomToken(), at: Date.now(), returnTo: env.returnTo || "" };
  storage.setItem(PENDING_KEY, JSON.stringify(pending));
  const url = new URL(discovery.authorization_endpoint);
  const params = {
    response_type: "code",
    client_id: config.client_id,
    redirect_uri: redirectUri(config, location.origin),
    scope: config.scopes,
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await pkceChallenge(pending.verifier),
    code_challenge_method: "S256",
  };
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  location.assign(url.toString());
}

/**
 * The authorization response in a page address (RFC 6749 §4.1.2), or null when the
 * address carries none, and the address without it.
 * @param {string} href
 * @returns {{response: {code: string | null, state: string | null, error: string | null, errorDescription: string | null, iss: string | null} | null, cleanUrl: string}}
 */
export function authorizationResponse(href) {
  const url = new URL(href);
  const q = url.searchParams;
  if (!q.has("state") || !(q.has("code") || q.has("error"))) return { response: null, cleanUrl: href };
  const response = { code: q.get("code"), state: q.get("state"), error: q.get("error"), errorDescription: q.get("error_description"), iss: q.get("iss") };
  for (const name of ["code", "state", "error", "error_description", "error_uri", "iss", "session_state"]) q.delete(name);
  return { response, cleanUrl: url.toString() };
}

/**
 * Finishes a sign-in the provider sent back: checks it, exchanges the code, keeps the
 * tokens. Returns them with the path to go back to (same origin only, else "").
 * @param {SignInConfig} config
 * @param {Discovery} discovery
 * @param {NonNullable<ReturnType<typeof authorizationResponse>["response"]>} response
 * @param {{storage?: Storage, origin?: string, fetchImpl?: typeof fetch}} [env]
 * @returns {Promise<{tokens: TokenSet, returnTo: string}>}
 */
export async function completeSignIn(config, discovery, response, env = {}) {
  const storage = env.storage || globalThis.sessionStorage;
  const pending = takePending(storage);
  if (!pending || response.state !== pending.state) {
    throw new SignInError("state", "the sign-in answer does not match a sign-in started in this tab (state differs)");
  }
  if (response.iss !== null && response.iss !== discovery.issuer) {
    throw new SignInError("state", `the sign-in answer comes from ${response.iss}, not ${discovery.issuer} (RFC 9207)`);
  }
  if (response.error) {
    const detail = response.errorDescription ? `${response.error}: ${response.errorDescription}` : response.error;
    throw new SignInError(response.error === "access_denied" ? "denied" : "provider", detail);
  }
  const redirect = redirectUri(config, env.origin || globalThis.location.origin);
  const body = await tokenRequest(env.fetchImpl || fetch, discovery.token_endpoint, config.organisation, {
    grant_type: "authorization_code",
    code: String(response.code),
    redirect_uri: redirect,
    client_id: config.client_id,
    code_verifier: pending.verifier,
  });
  checkIdToken(body.id_token, { issuer: discovery.issuer, clientId: config.client_id, nonce: pending.nonce });
  const tokens = tokenSet(body, {
    accessToken: "", refreshToken: null, idToken: null, expiresAt: 0, issuedAt: 0, issuer: discovery.issuer,
    clientId: config.client_id, tokenEndpoint: discovery.token_endpoint,
    endSessionEndpoint: discovery.end_session_endpoint || null, redirectUri: redirect,
  });
  storage.setItem(TOKENS_KEY, JSON.stringify(tokens));
  return { tokens, returnTo: sameOriginPath(pending.returnTo, redirect) };
}

/**
 * New tokens for old with the refresh_token grant (RFC 6749 §6). A provider that rotates
 * refresh tokens sends a new one; one that does not keeps the old one valid.
 * @param {TokenSet} tokens
 * @param {{storage?: Storage, fetchImpl?: typeof fetch}} [env]
 * @returns {Promise<TokenSet>}
 */
export async function refreshTokens(tokens, env = {}) {
  if (!tokens.refreshToken) throw new SignInError("token", "the provider gave no refresh token");
  const body = await tokenRequest(env.fetchImpl || fetch, tokens.tokenEndpoint, "the sign-in service", {
    grant_type: "refresh_token",
    refresh_token: tokens.refreshToken,
    client_id: tokens.clientId,
  });
  const next = tokenSet(body, tokens);
  (env.storage || globalThis.sessionStorage).setItem(TOKENS_KEY, JSON.stringify(next));
  return next;
}

/**
 * When to refresh: once four fifths of the access token's life are gone, so a slow
 * network or a retry still has the last fifth (a minute of a five-minute token).
 * @param {TokenSet} tokens
 * @param {number} nowS
 * @returns {number} milliseconds from now (0: now)
 */
export function refreshDelayMs(tokens, nowS) {
  const life = Math.max(0, tokens.expiresAt - tokens.issuedAt);
  return Math.max(0, (tokens.issuedAt + life * 0.8 - nowS) * 1000);
}

/**
 * The provider's logout address for these tokens (RP-Initiated Logout 1.0 §2), or null
 * when it has none (then signing out here ends only this page's sign-in).
 * @param {TokenSet} tokens
 * @returns {string | null}
 */
export function signOutUrl(tokens) {
  if (!tokens.endSessionEndpoint) return null;
  const url = new URL(tokens.endSessionEndpoint);
  if (tokens.idToken) url.searchParams.set("id_token_hint", tokens.idToken);
  url.searchParams.set("client_id", tokens.clientId);
  url.searchParams.set("post_logout_redirect_uri", tokens.redirectUri);
  return url.toString();
}

/**
 * @param {Storage} [storage]
 * @returns {TokenSet | null}
 */
export function storedTokens(storage = globalThis.sessionStorage) {
  try {
    const tokens = JSON.parse(storage.getItem(TOKENS_KEY) || "null");
    return tokens && typeof tokens.accessToken === "string" ? tokens : null;
  } catch {
    return null;
  }
}

/** @param {Storage} [storage] */
export function forgetTokens(storage = globalThis.sessionStorage) {
  storage.removeItem(TOKENS_KEY);
  storage.removeItem(PENDING_KEY);
}

/**
 * A random URL-safe string of 32 bytes (43 characters): within PKCE's 43–128 for a
 * code verifier (RFC 7636 §4.1), and unguessable as `state` and `nonce`.
 * @returns {string}
 */
export function randomToken() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * The S256 code challenge: BASE64URL(SHA256(ASCII(verifier))) (RFC 7636 §4.2).
 * @param {string} verifier
 * @returns {Promise<string>}
 */
export async function pkceChallenge(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/**
 * @param {Uint8Array} bytes
 * @returns {string}
 */
function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * @param {SignInConfig} config
 * @param {string} origin
 */
function redirectUri(config, origin) {
  return new URL(config.redirect_path, origin).toString();
}

/**
 * @param {Storage} storage
 * @returns {{state: string, nonce: string, verifier: string, at: number, returnTo: string} | null}
 */
function takePending(storage) {
  const raw = storage.getItem(PENDING_KEY);
  storage.removeItem(PENDING_KEY); // one use: a replayed answer finds nothing
  try {
    const pending = JSON.parse(raw || "null");
    return pending && Date.now() - pending.at < PENDING_MAX_AGE_MS ? pending : null;
  } catch {
    return null;
  }
}

/**
 * `target` as a path, query and fragment if it is on the same origin as `base`, else "".
 * @param {string} target
 * @param {string} base
 */
function sameOriginPath(target, base) {
  if (!target) return "";
  const url = new URL(target, base);
  return url.origin === new URL(base).origin ? url.pathname + url.search + url.hash : "";
}

/**
 * OIDC Core §3.1.3.7: the ID token is for us (aud), from our issuer, unexpired, and
 * answers our request (nonce).
 * @param {unknown} idToken
 * @param {{issuer: string, clientId: string, nonce: string}} expected
 */
function checkIdToken(idToken, expected) {
  const claims = typeof idToken === "string" ? jwtClaims(idToken) : null;
  if (!claims) throw new SignInError("token", "the provider sent no ID token (is `openid` among the scopes?)");
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const problems = [
    claims.iss !== expected.issuer && `its issuer is ${claims.iss}`,
    !audience.includes(expected.clientId) && `it is not for client ${expected.clientId}`,
    claims.nonce !== expected.nonce && "its nonce differs from the one this sign-in sent",
    !(typeof claims.exp === "number" && claims.exp + CLOCK_SKEW_S > Date.now() / 1000) && "it has expired",
  ].filter(Boolean);
  if (problems.length) throw new SignInError("token", `the ID token was refused: ${problems.join("; ")}`);
}

/**
 * @param {string} token
 * @returns {Record<string, any> | null}
 */
function jwtClaims(token) {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

/**
 * @param {Record<string, any>} body the token endpoint's answer
 * @param {TokenSet} previous what stays when the answer omits it
 * @returns {TokenSet}
 */
function tokenSet(body, previous) {
  const now = Math.floor(Date.now() / 1000);
  const lifetime = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : 300;
  return {
    ...previous,
    accessToken: String(body.access_token),
    refreshToken: typeof body.refresh_token === "string" ? body.refresh_token : previous.refreshToken,
    idToken: typeof body.id_token === "string" ? body.id_token : previous.idToken,
    issuedAt: now,
    expiresAt: now + lifetime,
  };
}

/**
 * A token endpoint request (RFC 6749 §4.1.3, §6): form-encoded, public client.
 * @param {typeof fetch} fetchImpl
 * @param {string} endpoint
 * @param {string} who for messages
 * @param {Record<string, string>} params
 * @returns {Promise<Record<string, any>>}
 */
async function tokenRequest(fetchImpl, endpoint, who, params) {
  let response;
  try {
    response = await fetchImpl(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: new URLSearchParams(params).toString(),
      cache: "no-store",
      credentials: "omit",
    });
  } catch (error) {
    throw new SignInError("unreachable", `${who} did not answer at ${endpoint}: ${error}`);
  }
  const body = await response.json().catch(() => null);
  if (!response.ok || !body || typeof body.access_token !== "string") {
    // RFC 6749 §5.2: `error` and maybe `error_description`.
    const reason = body && body.error ? `${body.error}${body.error_description ? `: ${body.error_description}` : ""}` : `HTTP ${response.status}`;
    throw new SignInError("token", `${who} refused the token request (${reason})`);
  }
  return body;
}

/**
 * @param {typeof fetch} fetchImpl
 * @param {string} url
 * @param {string} who for messages
 * @returns {Promise<any>}
 */
async function getJson(fetchImpl, url, who) {
  let response;
  try {
    response = await fetchImpl(url, { headers: { Accept: "application/json" }, cache: "no-store", credentials: "omit" });
  } catch (error) {
    throw new SignInError("unreachable", `${who} did not answer at ${url}: ${error}`);
  }
  if (!response.ok) throw new SignInError("unreachable", `${who} answered ${url} with HTTP ${response.status}`);
  return response.json().catch(() => {
    throw new SignInError("provider", `${who} answered ${url} with something that is not JSON`);
  });
}
