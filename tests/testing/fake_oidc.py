"""A fake OpenID Connect identity provider on loopback, for the web inbox's sign-in tests.

Stdlib http.server in a thread, plus python3-cryptography for its keys: one RSA key (kid
"rsa-1") and one P-256 key (kid "ec-1"), both published in its key set. The issuer is
http://127.0.0.1:PORT (countersign allows http issuers on loopback only).

Routes:
  GET  /.well-known/openid-configuration  issuer, authorization_endpoint, token_endpoint,
                                          jwks_uri (discovery_issuer overrides the issuer it
                                          names; discovery_status makes it fail)
  GET  /jwks                              {"keys": [...]}: the published public keys
  GET  /authorize                         checks response_type=code, the client id, the
                                          redirect URI, scope holding "openid", a state, a nonce
                                          and a PKCE S256 code_challenge (400 text otherwise),
                                          then redirects (302) straight back to the redirect URI
                                          with ?code=…&state=…, or with ?error=… when
                                          authorize_error is set
  POST /token                             form: grant_type=authorization_code, code (one use),
                                          redirect_uri as at /authorize, code_verifier whose
                                          SHA-256 is the challenge, and the client's credentials
                                          (HTTP Basic or client_id/client_secret in the form);
                                          400/401 with an OAuth error otherwise, token_status
                                          when set; else {"id_token": …} signed as configured

What the ID token says and how it is signed: `alg` ("RS256", "ES256", "none"), `sign_with`
("published" or "stranger": a key of the same kid that is not in the key set), `kid`
(overrides the key id in the header), `claims` (merged over the defaults: iss, aud, sub, exp,
iat, nonce as /authorize received it, email, groups; a value of None removes the claim).

Every request is recorded in `requests` (method, path, headers, form or query). Thread-safe
enough for one test driving it at a time.
"""

import base64
import hashlib
import http.server
import json
import secrets
import threading
import time
import urllib.parse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_bytes(n, length=None):
    length = length or (n.bit_length() + 7) // 8
    return n.to_bytes(length, "big")


class FakeIdentityProvider:
    def __init__(self, client_id="countersign-test", client_secret="s3cret-for-tests"):
        self.client_id = client_id
        self.client_secret = client_secret
        self.rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec_key = ec.generate_private_key(ec.SECP256R1())
        self.stranger_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.stranger_ec = ec.generate_private_key(ec.SECP256R1())
        # What the next sign-ins get; tests change these.
        self.alg = "RS256"
        self.sign_with = "published"
        self.kid = None
        self.claims = {}
        self.email = "alice@example.com"
        self.groups = None
        self.authorize_error = None
        self.token_status = None
        self.discovery_issuer = None
        self.discovery_status = None
        self.requests = []
        self.token_auth = []  # "basic" or "post", per token call that authenticated
        self._codes = {}
        self._lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.issuer = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- what it serves ----------------------------------------------------------------------
    def jwks(self):
        rsa_public = self.rsa_key.public_key().public_numbers()
        ec_public = self.ec_key.public_key().public_numbers()
        return {"keys": [
            {"kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256",
             "n": b64url(_int_bytes(rsa_public.n)), "e": b64url(_int_bytes(rsa_public.e))},
            {"kty": "EC", "kid": "ec-1", "use": "sig", "alg": "ES256", "crv": "P-256",
             "x": b64url(_int_bytes(ec_public.x, 32)), "y": b64url(_int_bytes(ec_public.y, 32))},
        ]}

    def id_token(self, nonce):
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.client_id, "sub": "user-1234",
                  "exp": now + 300, "iat": now, "nonce": nonce, "email": self.email}
        if self.groups is not None:
            claims["groups"] = self.groups
        claims.update(self.claims)
        claims = {k: v for k, v in claims.items() if v is not None}
        kid = self.kid or ("ec-1" if self.alg == "ES256" else "rsa-1")
        header = {"alg": self.alg, "kid": kid, "typ": "JWT"}
        text = (b64url(json.dumps(header).encode()) + "." +
                b64url(json.dumps(claims).encode())).encode()
        if self.alg == "none":
            return text.decode() + "."
        stranger = self.sign_with == "stranger"
        if self.alg == "ES256":
            key = self.stranger_ec if stranger else self.ec_key
            r, s = decode_dss_signature(key.sign(text, ec.ECDSA(hashes.SHA256())))
            signature = _int_bytes(r, 32) + _int_bytes(s, 32)
        else:
            key = self.stranger_rsa if stranger else self.rsa_key
            signature = key.sign(text, padding.PKCS1v15(), hashes.SHA256())
        return text.decode() + "." + b64url(signature)

    # -- HTTP --------------------------------------------------------------------------------
    def _reply(self, handler, status, body, content_type="application/json", headers=None):
        data = body if isinstance(body, bytes) else (
            json.dumps(body).encode() if content_type == "application/json" else body.encode())
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _redirect(self, handler, location):
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def _handle(self, handler, method):
        parsed = urllib.parse.urlsplit(handler.path)
        fields = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        if method == "POST":
            length = int(handler.headers.get("Content-Length") or 0)
            fields = dict(urllib.parse.parse_qsl(handler.rfile.read(length).decode(),
                                                 keep_blank_values=True))
        with self._lock:
            self.requests.append({"method": method, "path": parsed.path,
                                  "headers": dict(handler.headers), "fields": fields})
        if method == "GET" and parsed.path == "/.well-known/openid-configuration":
            if self.discovery_status:
                return self._reply(handler, self.discovery_status, {"error": "unavailable"})
            return self._reply(handler, 200, {
                "issuer": self.discovery_issuer or self.issuer,
                "authorization_endpoint": self.issuer + "/authorize",
                "token_endpoint": self.issuer + "/token",
                "jwks_uri": self.issuer + "/jwks",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                "code_challenge_methods_supported": ["S256"]})
        if method == "GET" and parsed.path == "/jwks":
            return self._reply(handler, 200, self.jwks())
        if method == "GET" and parsed.path == "/authorize":
            return self._authorize(handler, fields)
        if method == "POST" and parsed.path == "/token":
            return self._token(handler, fields)
        return self._reply(handler, 404, {"error": "not_found"})

    def _authorize(self, handler, q):
        problems = []
        if q.get("response_type") != "code":
            problems.append("response_type")
        if q.get("client_id") != self.client_id:
            problems.append("client_id")
        if not q.get("redirect_uri", "").endswith("/ui/oidc/callback"):
            problems.append("redirect_uri")
        if "openid" not in q.get("scope", "").split(" "):
            problems.append("scope")
        if q.get("code_challenge_method") != "S256" or len(q.get("code_challenge", "")) != 43:
            problems.append("code_challenge")
        if not q.get("state") or not q.get("nonce"):
            problems.append("state/nonce")
        if problems:
            return self._reply(handler, 400, "bad authorization request: " + ", ".join(problems),
                               "text/plain")
        back = q["redirect_uri"]
        if self.authorize_error:
            return self._redirect(handler, back + "?" + urllib.parse.urlencode(
                {"error": self.authorize_error, "state": q["state"]}))
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = {"challenge": q["code_challenge"], "nonce": q["nonce"],
                                 "redirect_uri": back}
        self._redirect(handler, back + "?" + urllib.parse.urlencode(
            {"code": code, "state": q["state"]}))

    def _client_auth(self, handler, form):
        header = handler.headers.get("Authorization", "")
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            given = (urllib.parse.unquote_plus(user), urllib.parse.unquote_plus(password), "basic")
        elif "client_secret" in form:
            given = (form.get("client_id"), form.get("client_secret"), "post")
        else:
            return None
        if given[:2] != (self.client_id, self.client_secret):
            return None
        return given[2]

    def _token(self, handler, form):
        how = self._client_auth(handler, form)
        if how is None:
            return self._reply(handler, 401, {"error": "invalid_client"})
        self.token_auth.append(how)
        if self.token_status:
            return self._reply(handler, self.token_status, {"error": "server_error"})
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)
        if (grant is None or form.get("grant_type") != "authorization_code" or
                form.get("redirect_uri") != grant["redirect_uri"]):
            return self._reply(handler, 400, {"error": "invalid_grant"})
        verifier = form.get("code_verifier", "")
        if b64url(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
            return self._reply(handler, 400, {"error": "invalid_grant",
                                              "error_description": "PKCE verification failed"})
        self._reply(handler, 200, {"access_token": secrets.token_urlsafe(16),
                                   "token_type": "Bearer", "expires_in": 300,
                                   "id_token": self.id_token(grant["nonce"])})
