"""API bearer tokens: HS256 with the configured key, or an OIDC issuer's keys from its
JWKS URL (served here by a real loopback HTTP server), and the role claim."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from orchestrator.auth import Authenticator, RolePolicy, mint_api_token
from orchestrator.errors import AuthenticationError, PermissionDeniedError, TokenRejectedError
from orchestrator.identity import Principal, Role
from orchestrator.settings import OrchestratorSettings

SECRET = "auth-tests-Rw5Tz8Kq2Lm9Xv4Bn7Cd1Fg6"
AUDIENCE = "ixstream-orchestrator"


def hs256(**claims: object) -> str:
    base = {"sub": "alice", "role": "trainee", "aud": AUDIENCE, "exp": time.time() + 3600}
    return jwt.encode({**base, **claims}, SECRET, algorithm="HS256")


@pytest.fixture
def authenticator(tmp_path: object) -> Authenticator:
    return Authenticator(OrchestratorSettings(jwt_secret=SecretStr(SECRET), mode="production"))


async def test_a_valid_token_becomes_a_principal(authenticator: Authenticator) -> None:
    assert await authenticator.authenticate(hs256()) == Principal("alice", Role.TRAINEE)


async def test_the_minting_helper_makes_tokens_the_authenticator_accepts(
    authenticator: Authenticator,
) -> None:
    token = mint_api_token(
        SECRET, subject="olga", role=Role.OPERATOR, audience=AUDIENCE, now=time.time(), ttl_s=60
    )
    assert await authenticator.authenticate(token) == Principal("olga", Role.OPERATOR)


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (hs256(exp=time.time() - 10), "expired"),
        (hs256(aud="ixstream-streamer"), r"(?i)audience"),
        (
            jwt.encode(
                {"sub": "a", "role": "operator", "aud": AUDIENCE, "exp": time.time() + 60},
                "x" * 40,
                algorithm="HS256",
            ),
            "Signature",
        ),
    ],
    ids=["expired", "wrong-audience", "wrong-key"],
)
async def test_a_token_that_fails_verification_is_rejected(
    authenticator: Authenticator, token: str, message: str
) -> None:
    with pytest.raises(TokenRejectedError, match=message):
        await authenticator.authenticate(token)


async def test_an_unsigned_token_is_rejected(authenticator: Authenticator) -> None:
    unsigned = jwt.encode({"sub": "a", "role": "operator", "aud": AUDIENCE}, "", "none")
    with pytest.raises(TokenRejectedError, match="'none' are not accepted"):
        await authenticator.authenticate(unsigned)


async def test_garbage_is_an_authentication_error(authenticator: Authenticator) -> None:
    with pytest.raises(AuthenticationError):
        await authenticator.authenticate("garbage")


async def test_a_token_without_a_known_role_is_forbidden(authenticator: Authenticator) -> None:
    with pytest.raises(PermissionDeniedError, match="no known role"):
        await authenticator.authenticate(hs256(role="admin"))


GROUPS = {"/police/trainees": Role.TRAINEE, "/police/instructors": Role.INSTRUCTOR}


@pytest.mark.parametrize(
    ("policy", "claim", "role"),
    [
        (RolePolicy(), "instructor", Role.INSTRUCTOR),
        (RolePolicy(), ["trainee", "staff", "vpn-users"], Role.TRAINEE),
        (RolePolicy(GROUPS), ["/police/instructors", "/all-staff"], Role.INSTRUCTOR),
        (RolePolicy(GROUPS, "least"), ["/police/trainees", "/police/instructors"], Role.TRAINEE),
        (RolePolicy(GROUPS, "most"), ["/police/trainees", "/police/instructors"], Role.INSTRUCTOR),
        (RolePolicy(GROUPS), ["/police/trainees", "/police/trainees"], Role.TRAINEE),
    ],
    ids=["plain-role", "unknown-names-ignored", "mapped-group", "least-chosen", "most-chosen",
         "same-role-twice"],
)  # fmt: skip
def test_a_role_claim_maps_to_exactly_one_role(
    policy: RolePolicy, claim: object, role: Role
) -> None:
    assert policy.role(claim) is role


@pytest.mark.parametrize(
    ("policy", "claim", "message"),
    [
        (RolePolicy(), ["trainee", "operator"], "several roles \\(trainee, operator\\)"),
        (RolePolicy(GROUPS), ["/police/trainees", "/police/instructors"], "several roles"),
        (RolePolicy(GROUPS), ["operator"], "no known role"),
        (RolePolicy(), {"role": "operator"}, "no known role"),
        (RolePolicy(), None, "no known role"),
    ],
    ids=["two-roles-by-default", "two-mapped-groups", "unmapped-name", "not-a-list", "missing"],
)  # fmt: skip
def test_an_ambiguous_or_empty_role_claim_is_refused(
    policy: RolePolicy, claim: object, message: str
) -> None:
    with pytest.raises(PermissionDeniedError, match=message):
        policy.role(claim)


async def test_the_authenticator_reads_roles_from_the_configured_groups_claim() -> None:
    settings = OrchestratorSettings(
        jwt_secret=SecretStr(SECRET),
        mode="production",
        role_claim="groups",
        role_mapping={"/police/instructors": Role.INSTRUCTOR},
    )
    token = jwt.encode(
        {"sub": "ivy", "groups": ["/police/instructors", "/all"], "aud": AUDIENCE,
         "exp": int(time.time()) + 60},
        SECRET,
        algorithm="HS256",
    )  # fmt: skip
    principal = await Authenticator(settings).authenticate(token)
    assert principal.role is Role.INSTRUCTOR


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, rsa.RSAPrivateKey]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", key
    server.shutdown()
    server.server_close()


async def test_an_oidc_token_is_verified_with_the_issuers_jwks(
    jwks_server: tuple[str, rsa.RSAPrivateKey],
) -> None:
    url, key = jwks_server
    issuer = "https://idp.example.test/realms/training"
    settings = OrchestratorSettings(mode="production", oidc_issuer=issuer, oidc_jwks_url=url)
    authenticator = Authenticator(settings)
    claims = {
        "sub": "u-42",
        "role": ["instructor"],
        "aud": AUDIENCE,
        "iss": issuer,
        "exp": time.time() + 60,
    }
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    assert await authenticator.authenticate(token) == Principal("u-42", Role.INSTRUCTOR)
    wrong_issuer = jwt.encode(
        {**claims, "iss": "https://evil.test"}, key, algorithm="RS256", headers={"kid": "k1"}
    )
    with pytest.raises(TokenRejectedError, match="issuer"):
        await authenticator.authenticate(wrong_issuer)
