"""A small OpenID provider for Accord's tests, built on Authlib's server (Debian's python3-authlib) and Flask.

Authlib does the protocol: the authorization code grant, PKCE (S256 only), the OpenID extension that
issues the signed ID token (nonce, auth_time, at_hash) and the token endpoint's client authentication.
This file adds what a provider keeps: users, clients, codes, its login form and its signing keys, plus a
few test controls under /_test that a real provider never has:

  POST /_test/rotate            a new signing key; the old one stays in the JWKS unless ?drop=1
  POST /_test/tamper?what=W     the next ID token is wrong on purpose: W is nonce, aud, iss, signature,
                                expired or stale (an auth_time ten minutes old)
  GET  /_test/log               the authorization requests seen (prompt, max_age), as JSON lines

Usage: oidc_provider.py [--port P] --client ID:SECRET:REDIRECT_URI --user SUB:USERNAME:PASSWORD:EMAIL[:GROUP,GROUP]
"""
import argparse
import json
import os
import secrets
import signal
import sys
import threading
import time
from html import escape

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.jose import JsonWebKey
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.grants.util import generate_id_token
from flask import Flask, g, jsonify, redirect, request, session

# Loopback only: Authlib refuses plain HTTP unless told this is a test.
os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
lock = threading.Lock()
keys = []
tamper = {"what": None}
requests_seen = []
users = {}
clients = {}
codes = {}


def new_key():
    key = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": secrets.token_hex(8)})
    return key


class User:
    def __init__(self, sub, username, password, email, groups):
        self.sub, self.username, self.password, self.email, self.groups = sub, username, password, email, groups

    def get_user_id(self):
        return self.sub


class Client:
    def __init__(self, client_id, secret, redirect_uris):
        self.client_id, self.secret, self.redirect_uris = client_id, secret, redirect_uris

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope):
        return " ".join(s for s in scope.split() if s in ("openid", "email", "profile", "groups"))

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret, self.secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


class Code:
    def __init__(self, code, client_id, redirect_uri, scope, user, nonce, auth_time, challenge, method):
        self.code, self.client_id, self.redirect_uri, self.scope = code, client_id, redirect_uri, scope
        self.user, self.nonce, self.auth_time = user, nonce, auth_time
        self.code_challenge, self.code_challenge_method = challenge, method
        self.created = time.time()

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def is_expired(self):
        return time.time() - self.created > 60


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code, req):
        with lock:
            codes[code] = Code(
                code, req.client.client_id, req.redirect_uri, req.scope, req.user, req.data.get("nonce"),
                g.auth_time, req.data.get("code_challenge"), req.data.get("code_challenge_method"),
            )

    def query_authorization_code(self, code, client):
        with lock:
            found = codes.get(code)
        if found and found.client_id == client.client_id and not found.is_expired():
            return found
        return None

    def delete_authorization_code(self, authorization_code):
        with lock:
            codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code):
        return authorization_code.user


class IDToken(OpenIDCode):
    def exists_nonce(self, nonce, req):
        with lock:
            return any(c.nonce == nonce for c in codes.values())

    def get_jwt_config(self, grant):
        with lock:
            key = keys[-1]
        return {"key": key, "alg": "RS256", "iss": issuer, "exp": 300}

    def generate_user_info(self, user, scope):
        info = UserInfo(sub=user.sub, name=user.username.title(), preferred_username=user.username)
        if "email" in scope:
            info["email"] = user.email
            info["email_verified"] = True
        # Always, as a group-membership mapper on the ID token does (Keycloak, Okta's groups claim).
        info["groups"] = user.groups
        return info

    def process_token(self, grant, token):
        with lock:
            what, tamper["what"] = tamper["what"], None
        if what is None:
            return super().process_token(grant, token)
        # A deliberately wrong ID token, made by the same function with one thing changed.
        credential = grant.request.credential
        config = self.get_jwt_config(grant)
        config["aud"] = ["someone-else"] if what == "aud" else [grant.request.client.client_id]
        config["nonce"] = "not-the-nonce" if what == "nonce" else credential.get_nonce()
        config["auth_time"] = credential.get_auth_time() - (600 if what == "stale" else 0)
        if what == "iss":
            config["iss"] = issuer + "/elsewhere"
        if what == "expired":
            config["exp"] = -120
        if what == "signature":
            config["key"] = new_key()
        token["id_token"] = generate_id_token(token, self.generate_user_info(grant.request.user, token["scope"]), **config)
        return token


app = Flask(__name__)
app.secret_key = secrets.token_bytes(32)
server = AuthorizationServer(app, query_client=lambda cid: clients.get(cid), save_token=lambda token, req: None)
server.register_grant(CodeGrant, [IDToken(require_nonce=True), CodeChallenge(required=True)])
CodeChallenge.SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]


@app.get("/.well-known/openid-configuration")
def discovery():
    return jsonify({
        "issuer": issuer,
        "authorization_endpoint": issuer + "/authorize",
        "token_endpoint": issuer + "/token",
        "jwks_uri": issuer + "/jwks",
        "end_session_endpoint": issuer + "/logout",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile", "groups"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "email", "email_verified", "name", "groups"],
    })


@app.get("/jwks")
def jwks():
    with lock:
        published = [k.as_dict(is_private=False) for k in keys]
    return jsonify({"keys": published})


def login_form(error=""):
    fields = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in request.values.items()
        if k not in ("username", "password")
    )
    return (
        "<!doctype html><html lang=en><title>Test provider: log in</title><h1>Test provider</h1>"
        f"<p role=alert>{escape(error)}</p><form method=post action=/authorize>{fields}"
        '<label>Username <input name=username id=username autocomplete=username></label>'
        '<label>Password <input type=password name=password id=password></label>'
        '<button type=submit id=provider-login>Log in</button></form></html>'
    )


@app.route("/authorize", methods=["GET", "POST"])
def authorize():
    with lock:
        requests_seen.append({k: request.values.get(k) for k in ("prompt", "max_age", "client_id")})
    if request.method == "POST":
        user = next((u for u in users.values() if u.username == request.form.get("username")), None)
        if user is None or not secrets.compare_digest(user.password, request.form.get("password", "")):
            return login_form("Wrong username or password."), 401
        session["sub"], session["auth_time"] = user.sub, int(time.time())
    else:
        # A fresh login when the client asks for one (prompt=login, max_age=0), or when there is no session.
        max_age = request.args.get("max_age")
        age = int(time.time()) - session.get("auth_time", 0)
        fresh_needed = "login" in (request.args.get("prompt") or "").split() or (max_age is not None and age > int(max_age))
        if "sub" not in session or fresh_needed:
            return login_form()
    user = users[session["sub"]]
    g.auth_time = session["auth_time"]
    return server.create_authorization_response(grant_user=user)


@app.post("/token")
def token():
    return server.create_token_response()


@app.route("/logout", methods=["GET", "POST"])
def logout():
    session.clear()
    target = request.values.get("post_logout_redirect_uri")
    client = clients.get(request.values.get("client_id", ""))
    if target and client and any(target.startswith(u.rsplit("/", 2)[0]) for u in client.redirect_uris):
        return redirect(target)
    return "<!doctype html><html lang=en><title>Logged out</title><p>Logged out of the test provider.</p></html>"


@app.post("/_test/rotate")
def rotate():
    with lock:
        if request.args.get("drop"):
            keys.clear()
        keys.append(new_key())
        return jsonify({"kids": [k.kid for k in keys]})


@app.post("/_test/tamper")
def set_tamper():
    with lock:
        tamper["what"] = request.args["what"]
    return jsonify(tamper)


@app.get("/_test/log")
def log():
    with lock:
        return "\n".join(json.dumps(r) for r in requests_seen) + "\n"


def main():
    global issuer
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0, help="0: a free one; the first line printed is 'ready PORT'")
    parser.add_argument("--client", action="append", default=[])
    parser.add_argument("--user", action="append", default=[])
    args = parser.parse_args()
    for spec in args.client:
        client_id, secret, uris = spec.split(":", 2)
        clients[client_id] = Client(client_id, secret, uris.split(","))
    for spec in args.user:
        parts = spec.split(":")
        sub, username, password, email = parts[:4]
        users[sub] = User(sub, username, password, email, parts[4].split(",") if len(parts) > 4 and parts[4] else [])
    keys.append(new_key())
    from werkzeug.serving import make_server
    server_ = make_server("127.0.0.1", args.port, app, threaded=True)
    issuer = f"http://127.0.0.1:{server_.server_port}"
    # A test runner may start this with SIGTERM blocked; it must still stop on it.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"ready {server_.server_port}", flush=True)
    server_.serve_forever()


if __name__ == "__main__":
    main()
