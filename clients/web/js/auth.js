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
 */

const STORAGE_KEY = "ixstream.apiToken";

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
 * The role the interface adapts to: the most privileged known one in the `role` claim
 * (a string or a list, as orchestrator/auth.py accepts).
 * @param {Record<string, any> | null} claims
 * @returns {"operator" | "instructor" | "trainee" | null}
 */
export function roleOf(claims) {
  if (!claims) return null;
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
  const result = signInFrom(trimmed, storage);
  if (result) storage.setItem(STORAGE_KEY, trimmed);
  return result;
}

/** @param {Storage} [storage] */
export function signOut(storage = globalThis.sessionStorage) {
  storage.removeItem(STORAGE_KEY);
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
    role: roleOf(claims),
    expiresAt: /** @type {number} */ (claims?.exp),
  };
}
