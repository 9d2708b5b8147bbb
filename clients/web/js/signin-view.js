/**
 * The trainee page's sign-in view: "Sign in with <organisation>" when the site uses an
 * identity provider (oidc.js), the access-code form when it does not, the return from
 * the provider, and what went wrong in words a trainer understands.
 */

import { ApiError } from "./api.js";
import { confirmIdentity, currentSignIn, decodeClaims, signIn, signOut } from "./auth.js";
import { authorizationResponse, beginSignIn, completeSignIn, discover, loadSignInConfig, SignInError, signOutUrl, storedTokens } from "./oidc.js";
import { $, fillMessage, showView } from "./ui.js";

/** @typedef {import("./auth.js").SignIn} SignIn */
/** @typedef {import("./oidc.js").SignInConfig} SignInConfig */

/** The site's OIDC settings once loaded (null: access codes and links only). */
/** @type {SignInConfig | null} */
let config = null;

/**
 * Who is signed in, finishing a sign-in the provider has just sent back. Shows the
 * sign-in view (with the reason, if a sign-in failed) and returns null when nobody is.
 * @returns {Promise<SignIn | null>}
 */
export async function resolveSignIn() {
  // A link's `#token=` is kept before the first await: the page may be left as soon
  // as it has loaded (a sign-in link, then a watch link), and the token must not go
  // with it while the sign-in configuration is still on its way.
  currentSignIn();
  config = await loadSignInConfig().catch(() => null);
  if (config) offerProvider(config);
  const { response, cleanUrl } = authorizationResponse(location.href);
  if (response && config) {
    history.replaceState(null, "", cleanUrl);
    try {
      const discovery = await discover(config);
      const { tokens, returnTo } = await completeSignIn(config, discovery, response);
      if (returnTo) history.replaceState(null, "", returnTo);
      const user = signIn(tokens.accessToken);
      if (user) return user;
      throw new SignInError("token", decodeClaims(tokens.accessToken)
        ? "the provider's access token has expired already (is this device's clock right?)"
        : "the provider's access token is not a JWT (docs/sign-in.md: the audience mapper and access-token format)");
    } catch (error) {
      showSignInProblem(error);
      return null;
    }
  }
  const user = currentSignIn();
  if (!user) showView("signin");
  return user;
}

/**
 * The role the orchestrator grants; shows why on the sign-in view and returns null
 * when it grants none (403) or refuses the token (401).
 * @param {SignIn} user
 * @returns {Promise<SignIn | null>}
 */
export async function confirmOrExplain(user) {
  try {
    return await confirmIdentity(user);
  } catch (error) {
    if (!(error instanceof ApiError) || (error.status !== 401 && error.status !== 403)) return user;
    // The provider's session outlives ours: offer to end it, so another account can sign in.
    const tokens = storedTokens();
    const switchUrl = tokens && signOutUrl(tokens);
    signOut();
    showSignInProblem(error);
    const other = /** @type {HTMLAnchorElement} */ ($("#signin-switch"));
    other.hidden = !switchUrl;
    if (switchUrl) {
      other.href = switchUrl;
      other.textContent = `Sign out of ${config?.organisation || "your organisation"} to use another account`;
    }
    return null;
  }
}

/**
 * Ends the sign-in here and, with an identity provider, there too (RP-initiated
 * logout); the provider sends the browser back to this page.
 */
export function signOutEverywhere() {
  const tokens = storedTokens();
  signOut();
  location.assign((tokens && signOutUrl(tokens)) || "./");
}

/**
 * Shows the sign-in view with what went wrong.
 * @param {unknown} error
 */
export function showSignInProblem(error) {
  const card = /** @type {HTMLElement} */ ($("#signin-problem"));
  fillMessage(card, describeSignInProblem(error, config?.organisation || "your organisation"));
  $("#signin-switch").hidden = true;
  card.hidden = false;
  showView("signin");
}

/**
 * A failed sign-in in words: what happened and what to do now.
 * @param {unknown} error
 * @param {string} organisation
 * @returns {import("./wording.js").Message}
 */
export function describeSignInProblem(error, organisation) {
  const detail = error instanceof Error ? error.message : String(error);
  if (error instanceof ApiError) {
    return error.status === 403
      ? { title: "Your account has no role on this training platform.", advice: `You signed in with ${organisation}, but you are in none of the groups that may train, instruct or operate here. Ask your administrator to add you to a training group, then sign in again.`, detail }
      : { title: "Your sign-in was not accepted.", advice: "Sign in again. If this keeps happening, tell your administrator: the training platform does not accept the sign-in service's tokens.", detail };
  }
  if (!(error instanceof SignInError)) return { title: "Sign-in did not finish.", advice: "Try again.", detail };
  const words = {
    unreachable: { title: `${organisation}'s sign-in service cannot be reached.`, advice: "Check this device's network connection and try again. If it keeps failing, your IT team can tell whether the sign-in service is down." },
    denied: { title: "Sign-in was cancelled.", advice: `IX Stream was not allowed to use your ${organisation} account. Press "Sign in with ${organisation}" to try again.` },
    state: { title: "That sign-in could not be confirmed.", advice: "It did not start in this tab, or it took too long. Sign in again from this page." },
    token: { title: `${organisation} did not complete the sign-in.`, advice: "Sign in again. If this keeps happening, give your IT team the technical details below." },
    expired: { title: "Your sign-in has ended.", advice: `Sign-ins last a limited time, for your security. Sign in with ${organisation} again to continue.` },
    provider: { title: `${organisation}'s sign-in service reported a problem.`, advice: "Try again in a moment. If it keeps failing, give your IT team the technical details below." },
  };
  return { ...words[error.kind], detail };
}

/** @param {SignInConfig} settings */
function offerProvider(settings) {
  $("#signin-oidc").hidden = false;
  $("#signin-form").hidden = true;
  $("#signin-lede").textContent = `Use your ${settings.organisation} account.`;
  const button = /** @type {HTMLButtonElement} */ ($("#signin-provider"));
  button.textContent = `Sign in with ${settings.organisation}`;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await beginSignIn(settings, await discover(settings), { returnTo: location.pathname + location.search });
    } catch (error) {
      showSignInProblem(error);
      button.disabled = false;
    }
  });
}
