"""A small OpenID Connect provider for the test suite, served on a loopback port of its own.

It follows OpenID Connect Core and RFC 7636/7523 where the tracker depends on them: discovery, a JWKS,
an authorization endpoint that approves a configured person at once (no login page: the browser goes
straight back to the tracker), a token endpoint that checks the client (client_secret_basic,
client_secret_post or private_key_jwt), the redirect URI, PKCE and that each code is used once, ID
tokens signed RS256 with the provider's own RSA key (Authlib's joserfc), userinfo and end_session.

``misbehave`` makes it send a bad ID token on purpose ("wrong_nonce", "expired", "wrong_key",
"wrong_audience"), so that tests prove the tracker refuses each.
"""

import base64
import hashlib
import json
import secrets
import threading
import time
from urllib.parse import unquote, urlencode, urlsplit

from flask import Flask, abort, jsonify, redirect, request
from markupsafe import escape
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _b64url_sha256(value: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(value.encode()).digest()).rstrip(b"=").decode()


class OIDCProvider:
    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "provider-key-1", "use": "sig", "alg": "RS256"})
        #: Same kid, another key: a token signed with it must fail the signature check.
        self.impostor_key = RSAKey.generate_key(2048, parameters={"kid": "provider-key-1", "alg": "RS256"})
        self.clients: dict[str, dict] = {}
        #: The person the authorization endpoint approves: OpenID claims (sub, email, email_verified, ...).
        self.person: dict | None = None
        self.misbehave: str | None = None
        #: Show a consent page with a "Continue" link instead of redirecting at once, so that a test
        #: can read (and tamper with) the answer the browser would carry back.
        self.consent = False
        self.codes: dict[str, dict] = {}
        self.access_tokens: dict[str, dict] = {}
        self.seen_jti: set[str] = set()
        self.authorize_requests: list[dict] = []
        self.token_requests: list[dict] = []
        self.end_session_requests: list[dict] = []
        self.issuer = ""
        self._server = None
        self._thread = None
        self.app = self._build_app()

    # --- set-up -------------------------------------------------------------------

    def register_client(
        self,
        client_id: str,
        *,
        redirect_uris: list[str],
        secret: str | None = None,
        public_jwk: dict | None = None,
        auth_method: str = "client_secret_basic",
    ) -> None:
        self.clients[client_id] = {
            "secret": secret,
            "jwk": public_jwk,
            "redirect_uris": redirect_uris,
            "auth_method": auth_method,
        }

    def start(self) -> "OIDCProvider":
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)

    # --- the endpoints ------------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask("test_oidc_provider")
        provider = self

        @app.get("/.well-known/openid-configuration")
        def discovery():
            base = provider.issuer
            return jsonify(
                {
                    "issuer": base,
                    "authorization_endpoint": base + "/authorize",
                    "token_endpoint": base + "/token",
                    "userinfo_endpoint": base + "/userinfo",
                    "jwks_uri": base + "/jwks",
                    "end_session_endpoint": base + "/end_session",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "scopes_supported": ["openid", "email", "profile"],
                    "token_endpoint_auth_methods_supported": [
                        "client_secret_basic",
                        "client_secret_post",
                        "private_key_jwt",
                    ],
                    "code_challenge_methods_supported": ["S256"],
                    "claims_supported": ["sub", "email", "email_verified", "acr", "nonce"],
                }
            )

        @app.get("/jwks")
        def jwks():
            return jsonify(KeySet([provider.key]).as_dict(private=False))

        @app.get("/authorize")
        def authorize():
            args = request.args.to_dict()
            provider.authorize_requests.append(args)
            client = provider.clients.get(args.get("client_id", ""))
            if client is None or args.get("redirect_uri") not in client["redirect_uris"]:
                abort(400, "unknown client or redirect_uri")  # never redirect to an unregistered address
            back = args["redirect_uri"]
            state = args.get("state")

            def fail(error):
                return redirect(back + "?" + urlencode({"error": error, "state": state or ""}))

            if args.get("response_type") != "code" or "openid" not in args.get("scope", "").split():
                return fail("invalid_request")
            if not args.get("code_challenge") or args.get("code_challenge_method") != "S256":
                return fail("invalid_request")  # PKCE is required, as Login.gov requires it
            if provider.person is None:
                return fail("access_denied")
            code = secrets.token_urlsafe(24)
            provider.codes[code] = {
                "client_id": args["client_id"],
                "redirect_uri": back,
                "nonce": args.get("nonce"),
                "challenge": args["code_challenge"],
                "acr": args.get("acr_values"),
                "person": dict(provider.person),
                "expires": time.time() + 60,
                "used": False,
            }
            answer = back + "?" + urlencode({"code": code, "state": state or ""})
            if provider.consent:
                return (
                    f'<!doctype html><title>Consent</title><a id="continue" href="{escape(answer)}">'
                    "Continue to the tracker</a>"
                )
            return redirect(answer)

        @app.post("/token")
        def token():
            form = request.form.to_dict()
            record = {
                "form": {k: v for k, v in form.items() if k != "client_secret"},
                "authorization": bool(request.authorization),
            }
            provider.token_requests.append(record)
            client_id, problem = provider._authenticate_client(form)
            record["client_auth"] = problem or "ok"
            if problem:
                return jsonify({"error": "invalid_client", "error_description": problem}), 401
            if form.get("grant_type") != "authorization_code":
                return jsonify({"error": "unsupported_grant_type"}), 400
            grant = provider.codes.get(form.get("code", ""))
            if grant is None or grant["client_id"] != client_id:
                return jsonify({"error": "invalid_grant", "error_description": "unknown code"}), 400
            if grant["used"]:
                return jsonify({"error": "invalid_grant", "error_description": "code already used"}), 400
            grant["used"] = True
            if grant["expires"] < time.time():
                return jsonify({"error": "invalid_grant", "error_description": "code expired"}), 400
            if form.get("redirect_uri") != grant["redirect_uri"]:
                return jsonify({"error": "invalid_grant", "error_description": "redirect_uri differs"}), 400
            verifier = form.get("code_verifier") or ""
            if not verifier or _b64url_sha256(verifier) != grant["challenge"]:
                return jsonify({"error": "invalid_grant", "error_description": "PKCE verifier wrong"}), 400
            access = secrets.token_urlsafe(24)
            provider.access_tokens[access] = grant["person"]
            return jsonify(
                {
                    "access_token": access,
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": provider._id_token(client_id, grant),
                }
            )

        @app.get("/userinfo")
        def userinfo():
            header = request.headers.get("Authorization", "")
            person = provider.access_tokens.get(header.removeprefix("Bearer ").strip())
            if person is None:
                return jsonify({"error": "invalid_token"}), 401
            return jsonify(person)

        @app.get("/end_session")
        def end_session():
            args = request.args.to_dict()
            provider.end_session_requests.append(args)
            back = args.get("post_logout_redirect_uri")
            if back:
                sep = "&" if urlsplit(back).query else "?"
                return redirect(back + (sep + urlencode({"state": args["state"]}) if args.get("state") else ""))
            return "You are signed out of the test provider."

        return app

    # --- the rules ----------------------------------------------------------------

    def _authenticate_client(self, form: dict) -> tuple[str | None, str | None]:
        if request.authorization and request.authorization.type == "basic":
            client_id = unquote(request.authorization.username or "")
            client = self.clients.get(client_id)
            if (
                client is None
                or client["auth_method"] != "client_secret_basic"
                or unquote(request.authorization.password or "") != client["secret"]
            ):
                return None, "client_secret_basic refused"
            return client_id, None
        if form.get("client_assertion_type") == ASSERTION_TYPE:
            return self._check_assertion(form.get("client_assertion", ""))
        client_id = form.get("client_id", "")
        client = self.clients.get(client_id)
        if client is None:
            return None, "unknown client"
        if client["auth_method"] == "client_secret_post" and form.get("client_secret") == client["secret"]:
            return client_id, None
        return None, f"{client['auth_method']} expected"

    def _check_assertion(self, assertion: str) -> tuple[str | None, str | None]:
        """RFC 7523 section 3: iss and sub are the client, aud the token endpoint, unexpired, jti once."""
        try:
            claims_peek = jwt.decode(assertion, self._assertion_key(assertion), algorithms=["RS256"]).claims
        except (JoseError, ValueError, KeyError, IndexError) as error:
            return None, f"client assertion refused: {type(error).__name__}"
        client_id = claims_peek.get("iss")
        now = time.time()
        if claims_peek.get("sub") != client_id:
            return None, "assertion sub is not the client"
        audience = claims_peek.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.issuer + "/token" not in audiences and self.issuer not in audiences:
            return None, "assertion aud is not this provider"
        if not claims_peek.get("exp") or claims_peek["exp"] < now:
            return None, "assertion expired"
        jti = claims_peek.get("jti")
        if not jti or jti in self.seen_jti:
            return None, "assertion jti missing or replayed"
        self.seen_jti.add(jti)
        return client_id, None

    def _assertion_key(self, assertion: str):
        # The issuer names the client, whose registered public key must verify the signature.
        payload = assertion.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        client = self.clients.get(claims.get("iss", ""))
        if client is None or client["auth_method"] != "private_key_jwt" or not client["jwk"]:
            raise KeyError("no private_key_jwt client " + str(claims.get("iss")))
        return RSAKey.import_key(client["jwk"])

    def _id_token(self, client_id: str, grant: dict) -> str:
        now = int(time.time())
        person = grant["person"]
        claims = {
            "iss": self.issuer,
            "sub": person["sub"],
            "aud": client_id,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "nonce": grant["nonce"],
        }
        if grant.get("acr"):
            claims["acr"] = grant["acr"].split()[0]
        claims.update({k: v for k, v in person.items() if k in ("email", "email_verified")})
        key = self.key
        if self.misbehave == "wrong_nonce":
            claims["nonce"] = secrets.token_urlsafe(16)
        elif self.misbehave == "expired":
            claims.update(iat=now - 3600, exp=now - 1800, auth_time=now - 3600)
        elif self.misbehave == "wrong_key":
            key = self.impostor_key
        elif self.misbehave == "wrong_audience":
            claims["aud"] = "some-other-client"
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
