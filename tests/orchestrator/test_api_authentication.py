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

from orchestrator.auth import Authenticator, mint_api_token, role_from_claim
from orchestrator.errors import AuthenticationError, PermissionDeniedError, TokenRejectedError
from orchestrator.identity import Principal, Role
from orchestrator.settings import OrchestratorSettings

SECRET = "k" * 40
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


def test_the_most_privileged_of_several_roles_wins() -> None:
    assert role_from_claim(["trainee", "operator", "other"]) is Role.OPERATOR
    assert role_from_claim("instructor") is Role.INSTRUCTOR


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
