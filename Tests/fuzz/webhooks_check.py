"""Webhook deliveries checked by the Standard Webhooks reference library (PyPI `standardwebhooks`), not by
Accord's own code: a receiver on loopback answers 500 to the first delivery and 200 to the next, and each
delivery must verify with the secret `accord webhook add` printed; the retry keeps its webhook-id; a body
changed by one byte must not verify. Usage: python webhooks_check.py ACCORD_BINARY (run by make test)."""
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

accord = os.path.realpath(sys.argv[1])
received = []


chat = {"/slack": [], "/teams": []}


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path in chat:
            chat[self.path].append(json.loads(body))
            self.send_response(200)
        else:
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(500 if len(received) == 1 else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    failures = []

    def check(what, ok, detail=""):
        print(("ok     " if ok else "FAILED ") + what + ("" if ok else f": {detail}"))
        if not ok:
            failures.append(what)

    home = tempfile.mkdtemp(prefix="accord-webhooks.")
    os.chmod(home, 0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k != "DATABASE_URL"}
    env["ACCORD_HOME"] = home
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    server = None

    def cli(*args):
        return subprocess.run([accord, *args], env=env, capture_output=True, text=True, timeout=60)

    try:
        cli("db", "start")
        port = free_port()
        server = subprocess.Popen([accord, "serve", "--demo", "--port", str(port), "--allow-private-webhooks"],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        added = cli("webhook", "add", f"http://127.0.0.1:{receiver.server_address[1]}/hook", "--as", "ada")
        secret = re.search(r"whsec_[A-Za-z0-9+/=]+", added.stdout)
        check("accord webhook add prints a Standard Webhooks secret", secret is not None, added.stdout + added.stderr)
        base = f"http://127.0.0.1:{receiver.server_address[1]}"
        for form in ("slack", "teams"):
            made = cli("webhook", "add", f"{base}/{form}", "--format", form, "--topic", "incident.reported", "--as", "ada")
            check(f"a {form} webhook is added", made.returncode == 0 and f"({form};" in made.stdout, made.stdout + made.stderr)
        reported = cli("incident", "report", "acme", "--system", "cv-screener", "--kind", "other",
                       "--aware-at", time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() - 600)),
                       "--summary", "A wrong rejection", "--as", "ada")
        check("an incident is reported", reported.returncode == 0, reported.stderr)
        # The first delivery is answered 500; it must come again, with the same webhook-id.
        deadline = time.time() + 90
        def retried():
            return len(received) >= 2 and any(h.get("webhook-id") == received[0][0].get("webhook-id") for h, _ in received[1:])
        while not retried() and time.time() < deadline:
            time.sleep(0.5)
        check("the delivery answered 500 is retried with the same webhook-id", retried(),
              [h.get("webhook-id") for h, _ in received])
        if secret and received:
            hook = Webhook(secret.group(0))
            for i, (headers, body) in enumerate(received):
                try:
                    hook.verify(body, headers)
                    check(f"delivery {i + 1} verifies with the standardwebhooks library", True)
                except WebhookVerificationError as error:
                    check(f"delivery {i + 1} verifies with the standardwebhooks library", False, str(error))
            headers, body = received[0]
            try:
                hook.verify(body.replace(b"A wrong", b"B wrong"), headers)
                check("a changed body does not verify", False, "it verified")
            except WebhookVerificationError:
                check("a changed body does not verify", True)
            # The chat forms: Slack's blocks (header + section), Teams' Adaptive Card attachment.
            while (not chat["/slack"] or not chat["/teams"]) and time.time() < deadline:
                time.sleep(0.5)
            slack = chat["/slack"][0] if chat["/slack"] else {}
            check("Slack gets an incoming-webhook message with a text fallback and blocks",
                  "serious incident" in slack.get("text", "") and [b.get("type") for b in slack.get("blocks", [])] == ["header", "section"],
                  json.dumps(slack)[:300])
            teams = chat["/teams"][0] if chat["/teams"] else {}
            card = (teams.get("attachments") or [{}])[0]
            content = card.get("content", {})
            check("Teams gets a message whose attachment is an Adaptive Card",
                  teams.get("type") == "message" and card.get("contentType") == "application/vnd.microsoft.card.adaptive"
                  and content.get("type") == "AdaptiveCard" and content.get("version") == "1.4"
                  and [b.get("type") for b in content.get("body", [])] == ["TextBlock", "FactSet"],
                  json.dumps(teams)[:300])
            event = json.loads(received[0][1])
            check("the body is the JSON event", event.get("topic") == "incident.reported" or "incident" in json.dumps(event)[:400],
                  json.dumps(event)[:200])
    finally:
        if server:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        cli("db", "stop")
        receiver.shutdown()
        subprocess.run(["rm", "-rf", home])
    print(f"webhooks (standardwebhooks): {len(received)} deliveries received, {len(chat['/slack'])} to Slack, "
          f"{len(chat['/teams'])} to Teams, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
