"""Accord's MCP server checked with the official Python MCP client (PyPI `mcp`) over both transports,
`accord mcp` (stdio) and `/mcp` under `accord serve` (streamable HTTP), against the demo organisation: the
tool list (the write tools marked, no tool that signs), each read tool, each write tool recorded in the
audit chain with the person and MCP as its origin, a read-only token refused writes, a person outside the
program refused its data, and on HTTP the refusals (no token, a bad one, a foreign page's Origin) and a
short run of malformed requests that must never get a 5xx. Usage: python mcp_check.py ACCORD_BINARY."""
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

import httpx
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

accord = os.path.realpath(sys.argv[1])
failures = []


def check(what, ok, detail=""):
    print(("ok     " if ok else "FAILED ") + what + ("" if ok else f": {str(detail)[:400]}"), flush=True)
    if not ok:
        failures.append(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def session(transport, env, token, body):
    """Runs `body` with a client connected over `transport` ("stdio", or the /mcp URL) as `token`."""
    if transport == "stdio":
        params = StdioServerParameters(command=accord, args=["mcp"], env={**env, "ACCORD_TOKEN": token})
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as client:
                await client.initialize()
                return await body(client)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        async with streamable_http_client(transport, http_client=http) as (read, write, _):
            async with ClientSession(read, write) as client:
                await client.initialize()
                return await body(client)


def text(result):
    return "".join(c.text for c in result.content if getattr(c, "type", "") == "text")


def main():
    home = tempfile.mkdtemp(prefix="accord-mcp.")
    os.chmod(home, 0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k != "DATABASE_URL"}
    env["ACCORD_HOME"] = home

    def cli(*args, stdin=None):
        return subprocess.run([accord, *args], env=env, capture_output=True, text=True, timeout=60, input=stdin)

    server = None
    try:
        cli("db", "start")
        port = free_port()
        # The server seeds the demo organisation; the MCP server is a process of its own on the same database.
        server = subprocess.Popen([accord, "serve", "--demo", "--port", str(port), "--no-scheduler"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 120
        while time.time() < deadline:
            line = server.stdout.readline()
            if "sam" in line and re.match(r"^\s+sam\s", line):
                break
        grace = cli("token", "create", "--user", "grace", "--name", "assistant", "--admin-override", "mcp test", "--as", "ada").stdout.strip()
        reader = cli("token", "create", "--user", "grace", "--name", "reader", "--read-only", "--admin-override", "mcp test",
                     "--as", "ada").stdout.strip()
        cli("user", "add", "nora", "--name", "Nora Nobody", "--password-stdin", "--as", "ada", stdin="nora password 123\n")
        nora = cli("token", "create", "--user", "nora", "--name", "t", "--admin-override", "mcp test", "--as", "ada").stdout.strip()

        lin = cli("token", "create", "--user", "lin", "--name", "assistant", "--admin-override", "mcp test", "--as", "ada").stdout.strip()
        url = f"http://127.0.0.1:{port}/mcp"
        for transport in ("stdio", url):
            name = "stdio" if transport == "stdio" else "http"
            check_transport(name, transport, env, cli, grace, reader, lin, nora)
        check_http_refusals(url, grace)
        verified = cli("audit", "verify", "--as", "ada")
        check("the audit trail verifies", verified.returncode == 0, verified.stdout + verified.stderr)
    finally:
        if server:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        cli("db", "stop")
        subprocess.run(["rm", "-rf", home])
    print(f"mcp: {len(failures)} failures", flush=True)
    return 1 if failures else 0


WRITE_TOOLS = ["comment_on_task", "draft_evidence_note", "report_finding"]


def check_transport(name, transport, env, cli, grace, reader, lin, nora):
    """The whole conversation over one transport; `name` prefixes each check."""

    def ok(what, passed, detail=""):
        check(f"[{name}] {what}", passed, detail)

    async def as_grace(client):
        tools = (await client.list_tools()).tools
        names = {t.name for t in tools}
        ok("the tool list has the read tools and the write tools",
           {"list_programs", "my_inbox", "get_task", "search_tasks", "ai_system", "report", "incidents", *WRITE_TOOLS} <= names, names)
        ok("no tool signs, rejects or assigns", not any(re.search(r"sign|reject|assign|role", n) for n in names), names)
        writes = sorted(t.name for t in tools if t.annotations and t.annotations.readOnlyHint is False)
        ok("exactly the write tools are marked as writing", writes == sorted(WRITE_TOOLS), writes)
        ok("each write tool says it writes", all("WRITES" in (t.description or "") for t in tools if t.name in WRITE_TOOLS))
        programs = text(await client.call_tool("list_programs", {}))
        ok("list_programs shows the demo program", '"acme"' in programs, programs[:200])
        inbox = text(await client.call_tool("my_inbox", {}))
        ok("my_inbox shows what waits for Grace", "Write and approve the AI policy" in inbox, inbox[:300])
        overdue = json.loads(text(await client.call_tool("search_tasks", {"program": "acme", "overdue_only": True})))
        ok("search_tasks finds the overdue work", len(overdue) > 0 and all(t.get("program") == "acme" for t in overdue), overdue[:1])
        task = overdue[0]["id"] if overdue else 0
        detail = text(await client.call_tool("get_task", {"task": str(task)}))
        ok("get_task shows a task with its references", '"refs"' in detail and "acme" in detail, detail[:200])
        system = json.loads(text(await client.call_tool("ai_system", {"program": "acme", "system": "cv-screener"})))
        ok("ai_system gives the classification and the tasks with their articles",
           system.get("system", {}).get("slug") == "cv-screener" and len(system.get("tasks", [])) > 0
           and any("ai-act" in json.dumps(t).lower() or "art" in json.dumps(t).lower() for t in system.get("tasks", [])), str(system)[:300])
        screener_late = json.loads(text(await client.call_tool("search_tasks", {"program": "acme", "system": "cv-screener", "overdue_only": True})))
        ok("search_tasks answers what is overdue for the CV screener",
           isinstance(screener_late, list) and all(t.get("system") in (None, "cv-screener") for t in screener_late), screener_late[:1])
        crosswalk = text(await client.call_tool("report", {"program": "acme", "kind": "crosswalk"}))
        ok("report crosswalk maps the Act to ISO/IEC 42001", "ai-act" in crosswalk.lower() and "42001" in crosswalk, crosswalk[:200])
        soa = text(await client.call_tool("report", {"program": "acme", "kind": "soa"}))
        ok("report soa gives the statement of applicability", "A." in soa, soa[:200])
        late = text(await client.call_tool("report", {"program": "acme", "kind": "overdue"}))
        ok("report overdue lists late work", "acme" in late, late[:200])
        incidents = await client.call_tool("incidents", {"program": "acme"})
        ok("incidents answers (with the Art. 73 clocks)", not incidents.isError, text(incidents)[:200])
        resources = (await client.list_resources()).resources
        uris = [str(r.uri) for r in resources]
        ok("the resources are the workflows and the regulation catalogue",
           "accord://reference/regulation.yaml" in uris and any(u.startswith("accord://workflows/") for u in uris), uris)
        catalogue = await client.read_resource("accord://reference/regulation.yaml")
        ok("the regulation catalogue reads", "42001" in catalogue.contents[0].text, catalogue.contents[0].text[:100])
        ok("the catalogue answers what Art. 26 asks of a deployer",
           re.search(r'"ai-act:art-26".*deployers', catalogue.contents[0].text, re.I) is not None)
        prompts = {p.name for p in (await client.list_prompts()).prompts}
        ok("the two prompts are offered", {"prepare-management-review", "what-blocks-certification"} <= prompts, prompts)
        review = await client.get_prompt("prepare-management-review", {"program": "acme"})
        ok("a prompt names its program and says signing stays in Accord",
           "acme" in review.messages[0].content.text and "Do not sign" in review.messages[0].content.text, review)
        made = await client.call_tool("comment_on_task", {"task": str(task), "body": f"Drafted by the assistant over {name}: attach the plan."})
        ok("comment_on_task writes a comment", not made.isError and "Drafted by the assistant" in text(made), text(made))
        in_review = await client.call_tool("draft_evidence_note", {"task": "acme/ai-policy", "title": "Policy notes", "markdown": "x"})
        ok("a note on a task in review is refused (it would withdraw signatures)",
           in_review.isError and "in_review" in text(in_review), text(in_review))
        finding = await client.call_tool("report_finding", {"program": "acme", "title": f"Logs of the CV screener not kept ({name})",
                                                            "severity": "minor", "source": "monitoring", "system": "cv-screener"})
        ok("report_finding raises a finding", not finding.isError and '"number"' in text(finding), text(finding))
        bad = await client.call_tool("report_finding", {"program": "acme", "title": "x", "severity": "catastrophic"})
        ok("report_finding refuses an unknown severity", bad.isError and "severity" in text(bad), text(bad))
        return task

    task = asyncio.run(session(transport, env, grace, as_grace))

    async def as_lin(client):
        note = await client.call_tool("draft_evidence_note", {
            "task": "acme/risk-method", "title": "Risk method draft", "assistant": "Test assistant",
            "markdown": "## Method\nLikelihood times impact, reviewed each cycle (ISO/IEC 42001 6.1.2)."})
        stored = json.loads(text(note)) if not note.isError else {}
        ok("draft_evidence_note attaches a note marked as drafted by the assistant",
           not note.isError and "Test assistant" in stored.get("draftedWith", "") and stored.get("uploadedBy") == "lin", text(note))
        after = json.loads(text(await client.call_tool("get_task", {"task": "acme/risk-method"})))
        ok("the task stays in progress for a person to submit", after.get("task", {}).get("state") == "in_progress", after.get("task"))

    asyncio.run(session(transport, env, lin, as_lin))
    log = json.loads(cli("audit", "log", "--program", "acme", "--json", "--as", "ada").stdout or "[]")
    wanted = "mcp stdio" if name == "stdio" else "mcp http"
    for action, actor in (("task.comment", "grace"), ("evidence.add", "lin"), ("finding.open", "grace")):
        entries = [e for e in log if e.get("action") == action]
        ok(f"{action} is in the audit chain, by {actor}, through MCP ({wanted})",
           entries and entries[-1].get("actor") == actor and wanted in (entries[-1].get("origin") or ""), entries[-1:])

    async def as_reader(client):
        for tool, arguments in (("comment_on_task", {"task": str(task), "body": "should not be written"}),
                                ("draft_evidence_note", {"task": "acme/risk-method", "title": "t", "markdown": "m"}),
                                ("report_finding", {"program": "acme", "title": "t", "severity": "minor"})):
            refused = await client.call_tool(tool, arguments)
            ok(f"a read-only token is refused {tool}", refused.isError and "read-only" in text(refused), text(refused))
        ok("a read-only token still reads", '"acme"' in text(await client.call_tool("list_programs", {})))

    asyncio.run(session(transport, env, reader, as_reader))

    async def as_nora(client):
        programs = text(await client.call_tool("list_programs", {}))
        ok("someone outside the program sees no program", '"acme"' not in programs, programs[:200])
        refused = await client.call_tool("get_task", {"task": str(task)})
        ok("someone outside the program is refused its task", refused.isError, text(refused))
        refused = await client.call_tool("report_finding", {"program": "acme", "title": "t", "severity": "minor"})
        ok("someone outside the program may not raise its findings", refused.isError, text(refused))

    asyncio.run(session(transport, env, nora, as_nora))


def check_http_refusals(url, token):
    """`/mcp` refuses who it should, and malformed requests get a 4xx, never a 5xx."""
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                  "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "check", "version": "1"}}}
    json_headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    with httpx.Client(timeout=30) as http:
        anonymous = http.post(url, json=initialize, headers=json_headers)
        check("[http] no token: 401 with a Bearer challenge",
              anonymous.status_code == 401 and anonymous.headers.get("www-authenticate", "").startswith("Bearer"), anonymous.status_code)
        forged = http.post(url, json=initialize, headers={**json_headers, "Authorization": "Bearer acc_not_a_token"})
        check("[http] an unknown token: 401", forged.status_code == 401, forged.status_code)
        auth = {**json_headers, "Authorization": f"Bearer {token}"}
        cross = http.post(url, json=initialize, headers={**auth, "Origin": "https://evil.example"})
        check("[http] a foreign page's Origin: 403", cross.status_code == 403, cross.status_code)
        stream = http.get(url, headers={**auth, "Accept": "text/event-stream"})
        check("[http] GET (no event stream): 405 with Allow", stream.status_code == 405 and "POST" in stream.headers.get("allow", ""), stream.status_code)
        malformed = [
            ({**auth}, b""), ({**auth}, b"{"), ({**auth}, b"[]"), ({**auth}, b"null"), ({**auth}, b'{"jsonrpc":"2.0"}'),
            ({**auth}, b'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_task","arguments":{"task":7}}}'),
            ({**auth}, b'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"no_such_tool"}}'),
            ({**auth}, b'{"jsonrpc":"2.0","id":4,"method":"no/such/method"}'),
            ({**auth}, b'{"jsonrpc":"2.0","id":5,"method":"tools/call","params":"x"}'),
            ({**auth}, b'{"jsonrpc":"2.0","id":6,"method":"resources/read","params":{"uri":"file:///etc/passwd"}}'),
            ({**auth}, b'{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"search_tasks","arguments":{"program":"acme","state":"\u0000"}}}'),
            ({**auth, "Content-Type": "text/plain"}, json.dumps(initialize).encode()),
            ({**auth, "Accept": "text/html"}, json.dumps(initialize).encode()),
            ({**auth, "MCP-Protocol-Version": "1999-01-01"}, b'{"jsonrpc":"2.0","id":8,"method":"tools/list"}'),
            ({**auth}, b'{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"comment_on_task","arguments":{"task":"acme/x","body":"' + b"a" * (600 << 10) + b'"}}}'),
            ({**auth}, bytes(range(256))),
        ]
        statuses = []
        for headers, body in malformed:
            answer = http.post(url, content=body, headers=headers)
            statuses.append(answer.status_code)
        check("[http] malformed requests get answers below 500", all(s < 500 for s in statuses), statuses)


if __name__ == "__main__":
    sys.exit(main())
