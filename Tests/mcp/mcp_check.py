"""`accord mcp` checked with the official Python MCP client (PyPI `mcp`) over stdio, against the demo
organisation: the tool list (the write tool marked, no tool that signs), each read tool, a comment written
through MCP recorded in the audit chain with the person and MCP as its origin, a read-only token refused
writes, and a person outside the program refused its data. Usage: python mcp_check.py ACCORD_BINARY."""
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

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


async def session(env, token, body):
    params = StdioServerParameters(command=accord, args=["mcp"], env={**env, "ACCORD_TOKEN": token})
    async with stdio_client(params) as (read, write):
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

        async def as_grace(client):
            tools = (await client.list_tools()).tools
            names = {t.name for t in tools}
            check("the tool list has the read tools and the write tool",
                  {"list_programs", "my_inbox", "get_task", "search_tasks", "ai_system", "report", "incidents", "comment_on_task"} <= names, names)
            check("no tool signs, rejects or assigns", not any(re.search(r"sign|reject|assign|role", n) for n in names), names)
            writes = [t.name for t in tools if t.annotations and t.annotations.readOnlyHint is False]
            check("only the write tool is marked as writing", writes == ["comment_on_task"], writes)
            programs = text(await client.call_tool("list_programs", {}))
            check("list_programs shows the demo program", '"acme"' in programs, programs[:200])
            inbox = text(await client.call_tool("my_inbox", {}))
            check("my_inbox shows what waits for Grace", "Write and approve the AI policy" in inbox, inbox[:300])
            overdue = json.loads(text(await client.call_tool("search_tasks", {"program": "acme", "overdue_only": True})))
            check("search_tasks finds the overdue work", len(overdue) > 0 and all(t.get("program") == "acme" for t in overdue), overdue[:1])
            task = overdue[0]["id"] if overdue else 0
            detail = text(await client.call_tool("get_task", {"task": str(task)}))
            check("get_task shows a task with its references", '"refs"' in detail and "acme" in detail, detail[:200])
            system = json.loads(text(await client.call_tool("ai_system", {"program": "acme", "system": "cv-screener"})))
            check("ai_system gives the classification and the tasks with their articles",
                  system.get("system", {}).get("slug") == "cv-screener" and len(system.get("tasks", [])) > 0, str(system)[:300])
            crosswalk = text(await client.call_tool("report", {"program": "acme", "kind": "crosswalk"}))
            check("report crosswalk maps the Act to ISO/IEC 42001", "ai-act" in crosswalk.lower() and "42001" in crosswalk, crosswalk[:200])
            soa = text(await client.call_tool("report", {"program": "acme", "kind": "soa"}))
            check("report soa gives the statement of applicability", "A." in soa, soa[:200])
            incidents = await client.call_tool("incidents", {"program": "acme"})
            check("incidents answers (with the Art. 73 clocks)", not incidents.isError, text(incidents)[:200])
            resources = (await client.list_resources()).resources
            uris = [str(r.uri) for r in resources]
            check("the resources are the workflows and the regulation catalogue",
                  "accord://reference/regulation.yaml" in uris and any(u.startswith("accord://workflows/") for u in uris), uris)
            catalogue = await client.read_resource("accord://reference/regulation.yaml")
            check("the regulation catalogue reads", "42001" in catalogue.contents[0].text, catalogue.contents[0].text[:100])
            prompts = {p.name for p in (await client.list_prompts()).prompts}
            check("the two prompts are offered", {"prepare-management-review", "what-blocks-certification"} <= prompts, prompts)
            review = await client.get_prompt("prepare-management-review", {"program": "acme"})
            check("a prompt names its program and says signing stays in Accord",
                  "acme" in review.messages[0].content.text and "Do not sign" in review.messages[0].content.text, review)
            made = await client.call_tool("comment_on_task", {"task": str(task), "body": "Drafted by the assistant: the owner should attach the plan."})
            check("comment_on_task writes a comment", not made.isError and "Drafted by the assistant" in text(made), text(made))
            return task

        task = asyncio.run(session(env, grace, as_grace))
        log = json.loads(cli("audit", "log", "--program", "acme", "--json", "--as", "ada").stdout or "[]")
        comment = [e for e in log if e.get("action") == "task.comment"]
        check("the comment is in the audit chain, by Grace, through MCP",
              comment and comment[-1].get("actor") == "grace" and "mcp" in (comment[-1].get("origin") or ""), comment[-1:] )

        async def as_reader(client):
            refused = await client.call_tool("comment_on_task", {"task": str(task), "body": "should not be written"})
            check("a read-only token is refused the write tool", refused.isError and "read-only" in text(refused), text(refused))
            check("a read-only token still reads", '"acme"' in text(await client.call_tool("list_programs", {})))

        asyncio.run(session(env, reader, as_reader))

        async def as_nora(client):
            programs = text(await client.call_tool("list_programs", {}))
            check("someone outside the program sees no program", '"acme"' not in programs, programs[:200])
            refused = await client.call_tool("get_task", {"task": str(task)})
            check("someone outside the program is refused its task", refused.isError, text(refused))

        asyncio.run(session(env, nora, as_nora))
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


if __name__ == "__main__":
    sys.exit(main())
