"""Accord's SCIM 2.0 endpoints checked by a compliance tester that is not Accord's code (PyPI scim2-tester:
discovery, create, read, replace, patch add/remove/replace on every attribute, delete, attribute
filtering), then what deactivation does to a real account of the demo organisation: its session and
API token stop working at once, its delegation ends, and a SCIM group mapped by a group rule binds and
unbinds a role. Usage: python scim_check.py ACCORD_BINARY (run by make test)."""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

accord = os.path.realpath(sys.argv[1])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    failures = []

    def check(what, ok, detail=""):
        print(("ok     " if ok else "FAILED ") + what + ("" if ok else f": {str(detail)[:400]}"), flush=True)
        if not ok:
            failures.append(what)

    home = tempfile.mkdtemp(prefix="accord-scim.")
    os.chmod(home, 0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k != "DATABASE_URL"}
    env["ACCORD_HOME"] = home
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def cli(*args, stdin=None):
        return subprocess.run([accord, *args], env=env, capture_output=True, text=True, timeout=60, input=stdin)

    def http(method, path, token=None, body=None, cookie=None, content="application/scim+json"):
        headers = {"Content-Type": content}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if cookie:
            headers["Cookie"] = cookie
        request = urllib.request.Request(base + path, method=method, headers=headers,
                                         data=json.dumps(body).encode() if body is not None else None)
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    server = None
    try:
        cli("db", "start")
        server = subprocess.Popen([accord, "serve", "--demo", "--port", str(port)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        passwords = {}
        deadline = time.time() + 120
        while time.time() < deadline and "sam" not in passwords:
            line = server.stdout.readline()
            match = re.match(r"^\s+(\w+)\s+(\S+)\s+", line)
            if match:
                passwords[match.group(1)] = match.group(2)
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        made = cli("token", "create", "--scim", "--name", "idp", "--admin-override", "SCIM client of the tests", "--as", "ada")
        token = made.stdout.strip()
        check("accord token create --scim prints a provisioning token", made.returncode == 0 and token.startswith("acc_"), made.stderr)
        status, _, _ = http("GET", "/api/v1/me", token=token)
        check("a provisioning token does not reach the API", status == 401, status)
        status, _, body = http("GET", "/scim/v2/Users")
        check("SCIM without a token: 401 in SCIM's error form", status == 401 and "urn:ietf:params:scim:api:messages:2.0:Error" in body, body)

        # The compliance tester, over the network like an identity provider's client.
        client = SyncSCIMClient(Client(base_url=base + "/scim/v2", headers={"Authorization": f"Bearer {token}"}))
        results = check_server(client)
        counts = {s: sum(1 for r in results if r.status == s) for s in Status}
        for result in results:
            if result.status in (Status.ERROR, Status.CRITICAL):
                print(f"  scim2-tester {result.status.name}: {result.title}: {result.reason}", flush=True)
        check("scim2-tester finds no error", counts.get(Status.ERROR, 0) == 0 and counts.get(Status.CRITICAL, 0) == 0,
              {s.name: n for s, n in counts.items()})
        print("scim2-tester: " + ", ".join(f"{n} {s.name.lower()}" for s, n in counts.items() if n), flush=True)

        # Deactivation, on sam of the demo: a browser session and an API token, and a delegation to him.
        status, headers, body = http("POST", "/api/v1/session", body={"handle": "sam", "password": passwords.get("sam", "")},
                                     content="application/json")
        cookie = (headers.get("Set-Cookie") or "").split(";")[0]
        check("sam logs in", status == 201 and cookie, body)
        sam_token = cli("token", "create", "--user", "sam", "--name", "t", "--admin-override", "test", "--as", "ada").stdout.strip()
        delegated = cli("delegate", "create", "--program", "acme", "--role", "top-management", "--from", "grace", "--to", "sam", "--until",
                        time.strftime("%Y-%m-%d", time.gmtime(time.time() + 7 * 86400)), "--reason", "holiday", "--as", "ada")
        check("grace delegates top-management to sam", delegated.returncode == 0, delegated.stderr)
        status, _, body = http("GET", '/scim/v2/Users?filter=userName%20eq%20%22sam%22', token=token)
        users = json.loads(body).get("Resources", [])
        check("the filter userName eq finds sam", status == 200 and len(users) == 1, body)
        sam = users[0]["id"] if users else "none"
        # A group mapped by a rule: joining binds the role, leaving unbinds it.
        cli("sso", "rule", "add", "auditors", "--program", "acme", "--role", "internal-auditor", "--as", "ada")
        status, _, body = http("GET", '/scim/v2/Users?filter=userName%20eq%20%22lin%22', token=token)
        lin = (json.loads(body).get("Resources") or [{"id": "none"}])[0]["id"]
        status, _, body = http("POST", "/scim/v2/Groups", token=token, body={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "auditors",
            "members": [{"value": sam}, {"value": lin}]})
        group = json.loads(body).get("id", "none")
        roles = cli("role", "list", "acme", "--as", "ada").stdout
        check("a SCIM group with a rule binds its members' role", status == 201 and re.search(r"internal-auditor.*sam", roles), roles)
        status, _, body = http("PATCH", f"/scim/v2/Users/{sam}", token=token, body={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}]})
        check("PATCH active False (as Entra ID sends it) deactivates sam", status == 200 and json.loads(body).get("active") is False, body)
        status, _, _ = http("GET", "/api/v1/me", cookie=cookie, content="application/json")
        check("sam's session ended at once", status == 401, status)
        status, _, _ = http("GET", "/api/v1/me", token=sam_token, content="application/json")
        check("sam's API token stopped working at once", status == 401, status)
        listed = json.loads(cli("delegate", "list", "acme", "--json", "--as", "ada").stdout or "[]")
        to_sam = [d for d in listed if "sam" in json.dumps(d)]
        check("the delegation to sam ended", to_sam and all(d.get("revoked") or d.get("revokedAt") for d in to_sam), to_sam)
        # Entra ID's way of removing a member: path "members" with the values to take out; the others stay.
        status, _, body = http("PATCH", f"/scim/v2/Groups/{group}", token=token, body={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Remove", "path": "members", "value": [{"value": sam}]}]})
        members = [m["value"] for m in json.loads(body).get("members", [])] if status == 200 else []
        roles = cli("role", "list", "acme", "--as", "ada").stdout
        check("leaving the group unbinds the role the rule gave; the other member stays", status == 200 and members == [lin]
              and not re.search(r"internal-auditor.*sam", roles), (status, members, roles))
        status, _, body = http("PATCH", f"/scim/v2/Groups/{group}", token=token, body={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "remove", "path": f'members[value eq "{lin}"]'}]})
        check("a member removed by a value filter", status == 200 and not json.loads(body).get("members"), body)
        status, _, _ = http("DELETE", f"/scim/v2/Users/{sam}", token=token)
        check("DELETE answers 204", status == 204, status)
        status, _, body = http("GET", f"/scim/v2/Users/{sam}", token=token)
        check("a deleted User answers 404 from then on", status == 404, body)
        verified = cli("audit", "verify", "--as", "ada")
        check("the audit trail verifies after provisioning", verified.returncode == 0, verified.stdout + verified.stderr)
    finally:
        if server:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        cli("db", "stop")
        subprocess.run(["rm", "-rf", home])
    print(f"scim: {len(failures)} failures", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
