// An OpenID provider for the sign-in tests: panva's certified `oidc-provider`, configured
// the way a site's identity provider would be for IX Stream (docs/sign-in.md), on a
// loopback port. It is not served to users; tests/web/test_sign_in.py starts it.
//
// Usage: node oidc-provider.mjs '<json>' where the JSON gives
//   port, client_id, redirect_uri, audience, access_ttl_s, accounts ({login: [groups]})
// It prints `ready <issuer>` on stdout once it listens, and stops on SIGTERM.
//
// What it is set to do, and why:
// - one public client (token_endpoint_auth_method "none"): a browser page keeps no
//   secret (OAuth 2.0 for Browser-Based Apps); PKCE is required for it (RFC 7636, S256);
// - access tokens are JWTs for the orchestrator's audience (RFC 9068), via a default
//   resource indicator (RFC 8707) so the page need not name it, with a `groups` claim
//   from the account, the claim the orchestrator maps to roles (`role_mapping`);
// - refresh tokens for the client without `offline_access` (as Keycloak does), bound to
//   the provider session, so RP-initiated logout ends them too;
// - the provider's own development login and consent pages: any login name signs in,
//   and its groups come from `accounts`.
import { generateKeyPairSync } from "node:crypto";
import Provider from "oidc-provider";

const options = JSON.parse(process.argv[2] ?? "{}");
const issuer = `http://127.0.0.1:${options.port}`;
const resource = "urn:ixstream:orchestrator";
/** @type {Record<string, string[]>} */
const accounts = options.accounts ?? {};

const signingKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });

/** @param {string} login */
function groupsOf(login) {
  return accounts[login] ?? [];
}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: options.client_id,
      client_name: "IX Stream",
      token_endpoint_auth_method: "none",
      application_type: "web",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      redirect_uris: [options.redirect_uri],
      post_logout_redirect_uris: [options.redirect_uri],
    },
  ],
  jwks: { keys: [{ ...signingKey, kid: "test-signing-key", use: "sig", alg: "RS256" }] },
  cookies: { keys: [generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" }).d] },
  pkce: { required: () => true },
  scopes: ["openid", "profile", "offline_access"],
  claims: { openid: ["sub"], profile: ["name"] },
  findAccount: async (_ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, name: sub }),
  }),
  extraTokenClaims: async (_ctx, token) => (token.accountId ? { groups: groupsOf(token.accountId) } : undefined),
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
  ttl: {
    AccessToken: options.access_ttl_s,
    AuthorizationCode: 60,
    IdToken: 3600,
    RefreshToken: 3600,
    Grant: 3600,
    Interaction: 600,
    Session: 3600,
  },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => resource,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, indicator) => {
        if (indicator !== resource) throw new Error(`unknown resource ${indicator}`);
        return {
          scope: "openid profile",
          audience: options.audience,
          accessTokenFormat: "jwt",
          accessTokenTTL: options.access_ttl_s,
          jwt: { sign: { alg: "RS256" } },
        };
      },
    },
  },
});
provider.proxy = false;

const server = provider.listen(options.port, "127.0.0.1", () => {
  process.stdout.write(`ready ${issuer}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
