/**
 * Who is signed in: the API token, where it comes from and where it is kept.
 *
 * In dev mode `ixstream up` prints a login URL carrying a token (`/?token=…`, or
 * `/#token=…`: the fragment never reaches a server log). We take it from the address,
 * keep it in sessionStorage, and remove it from the address bar so it is not bookmarked
 * or shared by accident. sessionStorage, not localStorage: it ends with the tab, is not
 * shared with tabs the user opens by hand, and reaches only the tabs our own links open
 * (ui.js, `rel="opener"`). A token left in localStorage by an older version is removed.
 * Claims are decoded only to adapt the interface (show the operator link,
 * warn before expiry); the server verifies every call (RFC 7519 tokens, RFC 6750 use).
 *
 * With an identity provider (oidc.js) the token is an OIDC access token whose groups
 * only the orchestrator can map to a role (`role_claim`, `role_mapping`): the page asks
 * it (`GET /v1/me`, `confirmIdentity`) and keeps the answer beside the token, so every
 * page shows the role the server grants rather than one it guessed from a claim.
 */

import { OrchestratorApi } from "./api.js";
import { forgetTokens, refreshDelayMs, refreshTokens, SignInError, storedTokens } from "./oidc.js";

const STORAGE_KEY = "ixstream.apiToken";
const IDENTITY_KEY = "ixstream.identity";
/** After a failed refresh that may pass (the provider did not answer), try again this soon. */
const REFRESH_RETRY_MS = 5000;

/**
 * The token in a URL's fragment or query, and the URL without it.
 * @param {string} href
 * @returns {{token: string | null, cleanUrl: string}}
 */
export function tokenFromUrl(href) {
  const url = new URL(href);
  const fragment = new URLSearchParams(url.hash.replace(/^#/, ""));
  const token = fragment.get("token") || url.searchParams.get("token");
  fragment.delete("token");
  url.searchParams.delete("token");
  const rest = fragment.toString();
  url.hash = rest ? `#${rest}` : "";
  return { token: token && token.trim() ? token.trim() : null, cleanUrl: url.toString() };
}

/**
 * A JWT's claims, unverified (base64url JSON of the middle part), or null.
 * @param {string} token
 * @returns {Record<string, any> | null}
 */
export function decodeClaims(token) {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = b64 + "=".repeat((4 - (b64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

/**
 * The role the interface adapts to: the one the orchestrator granted (`/v1/me`, kept by
 * `confirmIdentity`); before it has answered, the most privileged known one in the
 * `role` claim (a string or a list, as orchestrator/auth.py accepts with no mapping).
 * @param {Record<string, any> | null} claims
 * @param {Storage} [storage]
 * @returns {"operator" | "instructor" | "trainee" | null}
 */
export function roleOf(claims, storage = globalThis.sessionStorage) {
  if (!claims) return null;
  const confirmed = storedIdentity(storage);
  if (confirmed && confirmed.subject === claims.sub) return confirmed.role;
  const raw = claims.role;
  const roles = Array.isArray(raw) ? raw : [raw];
  for (const role of /** @type {const} */ (["operator", "instructor", "trainee"])) {
    if (roles.includes(role)) return role;
  }
  return null;
}

/**
 * @param {Record<string, any> | null} claims
 * @param {number} nowS Unix seconds
 * @returns {boolean}
 */
export function isExpired(claims, nowS) {
  return !claims || typeof claims.exp !== "number" || claims.exp <= nowS;
}

/**
 * @typedef {object} SignIn
 * @property {string} token
 * @property {string} subject
 * @property {"operator" | "instructor" | "trainee" | null} role
 * @property {number} expiresAt Unix seconds
 */

/**
 * The current sign-in: a token just handed over in the address (which replaces any
 * stored one), else the stored one if it has not expired.
 * @param {{location?: Location, history?: History, storage?: Storage}} [env]
 * @returns {SignIn | null}
 */
export function currentSignIn(env = {}) {
  const location = env.location || globalThis.location;
  const history = env.history || globalThis.history;
  const storage = env.storage || globalThis.sessionStorage;
  globalThis.localStorage?.removeItem(STORAGE_KEY);
  const { token: fromUrl, cleanUrl } = tokenFromUrl(location.href);
  if (fromUrl) {
    history.replaceState(history.state, "", cleanUrl);
    signOut(storage); // a new sign-in: no identity or provider tokens of the last one
    storage.setItem(STORAGE_KEY, fromUrl);
  }
  const token = fromUrl || storage.getItem(STORAGE_KEY);
  return token ? signInFrom(token, storage) : null;
}

/**
 * Stores a token typed or pasted into the sign-in form.
 * @param {string} token
 * @param {Storage} [storage]
 * @returns {SignIn | null} null if it is not a usable token
 */
export function signIn(token, storage = globalThis.sessionStorage) {
  const trimmed = token.trim();
  storage.removeItem(IDENTITY_KEY);
  const result = signInFrom(trimmed, storage);
  if (result) storage.setItem(STORAGE_KEY, trimmed);
  return result;
}

/**
 * Forgets every trace of the sign-in in this tab (token, identity, OIDC tokens).
 * oidc.js's `signOutUrl` ends the provider's session too.
 * @param {Storage} [storage]
 */
export function signOut(storage = globalThis.sessionStorage) {
  storage.removeItem(STORAGE_KEY);
  storage.removeItem(IDENTITY_KEY);
  forgetTokens(storage);
}

/**
 * Asks the orchestrator who the token belongs to and which role it grants (its
 * `role_mapping`, not a guess here), and keeps the answer for every page of this tab.
 * Throws the API's error: 401 (token refused), 403 (no role granted here).
 * @param {SignIn} user
 * @param {{storage?: Storage, fetch?: typeof fetch}} [env]
 * @returns {Promise<SignIn>}
 */
export async function confirmIdentity(user, env = {}) {
  const storage = env.storage || globalThis.sessionStorage;
  const me = await new OrchestratorApi(user.token, { fetch: env.fetch }).request("GET", "/v1/me");
  storage.setItem(IDENTITY_KEY, JSON.stringify({ subject: me.subject, role: me.role }));
  return { ...user, subject: me.subject, role: me.role };
}

/**
 * Keeps an OIDC sign-in fresh: refreshes the access token before it expires (oidc.js)
 * and hands each new one to `onToken`. `onLost` is called once when the sign-in cannot
 * go on (no refresh token, or the provider refused it): the page asks to sign in again.
 * Does nothing for a dev-mode token. Returns a function that stops it.
 * @param {(token: string) => void} onToken
 * @param {(error: SignInError) => void} onLost
 * @param {Storage} [storage]
 * @returns {() => void}
 */
export function keepSignedIn(onToken, onLost, storage = globalThis.sessionStorage) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const schedule = (/** @type {number} */ delayMs) => {
    timer = setTimeout(() => void refresh(), delayMs);
  };
  const refresh = async () => {
    const tokens = storedTokens(storage);
    if (!tokens) return;
    if (!tokens.refreshToken) {
      // The provider gives no refresh token: the sign-in lasts as long as this token.
      const leftMs = (tokens.expiresAt - Date.now() / 1000) * 1000;
      if (leftMs > 0) schedule(leftMs);
      else onLost(new SignInError("expired", "the access token expired and the provider gave no refresh token"));
      return;
    }
    try {
      const next = await refreshTokens(tokens, { storage });
      storage.setItem(STORAGE_KEY, next.accessToken);
      onToken(next.accessToken);
      schedule(refreshDelayMs(next, Date.now() / 1000));
    } catch (error) {
      const failure = error instanceof SignInError ? error : new SignInError("token", String(error));
      const stillValid = tokens.expiresAt - Date.now() / 1000 > REFRESH_RETRY_MS / 1000;
      if (failure.kind === "unreachable" && stillValid) schedule(REFRESH_RETRY_MS);
      else onLost(new SignInError("expired", `the sign-in could not be renewed: ${failure.message}`));
    }
  };
  const tokens = storedTokens(storage);
  if (tokens && tokens.accessToken === storage.getItem(STORAGE_KEY)) schedule(refreshDelayMs(tokens, Date.now() / 1000));
  return () => clearTimeout(timer);
}

/**
 * Keeps an API client's token fresh for as long as the page lives (`keepSignedIn`). A
 * sign-in that cannot be renewed is left to the page's own handling of a 401.
 * @param {{token: string}} api an OrchestratorApi
 * @returns {() => void} stops it
 */
export function keepApiFresh(api) {
  return keepSignedIn((token) => { api.token = token; }, () => {});
}

/**
 * @param {Storage} storage
 * @returns {{subject: string, role: "operator" | "instructor" | "trainee"} | null}
 */
function storedIdentity(storage) {
  try {
    const identity = JSON.parse(storage?.getItem(IDENTITY_KEY) || "null");
    return identity && typeof identity.subject === "string" ? identity : null;
  } catch {
    return null;
  }
}

/**
 * @param {string} token
 * @param {Storage} storage
 * @returns {SignIn | null}
 */
function signInFrom(token, storage) {
  const claims = decodeClaims(token);
  if (isExpired(claims, Date.now() / 1000)) {
    storage.removeItem(STORAGE_KEY);
    return null;
  }
  return {
    token,
    subject: String(claims?.sub ?? ""),
    role: roleOf(claims, storage),
    expiresAt: /** @type {number} */ (claims?.exp),
  };
}
