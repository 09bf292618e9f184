"""The OSCAL export of the demo program, checked as an auditor's tool would read it: compliance-trestle
validates it against NIST's OSCAL schema (and refuses a broken copy, so the check can fail), every
internal reference resolves (import-ap, observations, evidence resources), every finding's control is a
reviewed control, and every evidence resource names a file of the program's evidence pack with that
file's SHA-256. Usage: oscal_check.py ACCORD_BINARY TRESTLE_BINARY"""

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile

accord, trestle = sys.argv[1], sys.argv[2]
failures = 0


def check(what, ok, detail=""):
    global failures
    print(("ok   " if ok else "FAIL ") + what + ("" if ok or not detail else f": {detail[:600]}"))
    if not ok:
        failures += 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    work = tempfile.mkdtemp(prefix="accord-oscal.")
    os.chmod(work, 0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k != "DATABASE_URL"}
    env["ACCORD_HOME"] = os.path.join(work, "home")

    def cli(*args):
        return subprocess.run([accord, *args], env=env, capture_output=True, text=True, timeout=120)

    server = None
    try:
        cli("db", "start")
        # The server seeds the demo organisation (evidence on several tasks); it is stopped before exporting.
        server = subprocess.Popen([accord, "serve", "--demo", "--port", str(free_port()), "--no-scheduler"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 120
        while time.time() < deadline:
            line = server.stdout.readline()
            if re.match(r"^\s+sam\s", line):
                break
        server.terminate()
        server.wait(timeout=30)
        server = None

        workspace = os.path.join(work, "ws")
        os.makedirs(workspace)
        init = subprocess.run([trestle, "init"], cwd=workspace, capture_output=True, text=True)
        check("trestle init", init.returncode == 0, init.stdout + init.stderr)
        target = os.path.join(workspace, "assessment-results", "acme", "assessment-results.json")
        os.makedirs(os.path.dirname(target))
        exported = cli("export", "acme", "--oscal", "-o", target, "--as", "ada")
        check("accord export acme --oscal", exported.returncode == 0, exported.stdout + exported.stderr)
        outsider = cli("user", "add", "nora", "--name", "Nora Nobody", "--as", "ada")
        refused = cli("export", "acme", "--oscal", "-o", os.path.join(work, "nora.json"), "--as", "nora")
        check("a person outside the program is refused the export", outsider.returncode == 0 and refused.returncode != 0
              and not os.path.exists(os.path.join(work, "nora.json")), refused.stdout + refused.stderr)

        validated = subprocess.run([trestle, "validate", "-f", target], cwd=workspace, capture_output=True, text=True)
        check("trestle validates the export against the OSCAL schema", validated.returncode == 0 and "VALID" in validated.stdout,
              validated.stdout + validated.stderr)
        document = json.load(open(target))
        broken = json.loads(json.dumps(document))
        broken["assessment-results"]["results"][0]["findings"][0]["target"]["status"]["state"] = "mostly"
        bad = os.path.join(workspace, "assessment-results", "broken", "assessment-results.json")
        os.makedirs(os.path.dirname(bad))
        json.dump(broken, open(bad, "w"))
        refused = subprocess.run([trestle, "validate", "-f", bad], cwd=workspace, capture_output=True, text=True)
        check("trestle refuses a broken copy (the check can fail)", refused.returncode != 0, refused.stdout)

        results = document["assessment-results"]
        result = results["results"][0]
        resources = {r["uuid"]: r for r in results["back-matter"]["resources"]}
        observations = {o["uuid"]: o for o in result.get("observations", [])}
        check("import-ap names a back-matter resource", results["import-ap"]["href"].lstrip("#") in resources)
        reviewed = {c["control-id"] for s in result["reviewed-controls"]["control-selections"] for c in s.get("include-controls", [])}
        excluded = {c["control-id"] for s in result["reviewed-controls"]["control-selections"] for c in s.get("exclude-controls", [])}
        check("the 38 Annex A controls are reviewed or excluded", len(reviewed | excluded) == 38, f"{len(reviewed)} + {len(excluded)}")
        findings = result["findings"]
        check("one finding per reviewed control", sorted(f["target"]["target-id"] for f in findings) == sorted(reviewed))
        related = [r["observation-uuid"] for f in findings for r in f.get("related-observations", [])]
        check("every related observation exists", related and all(u in observations for u in related), str(related[:3]))
        hrefs = [e["href"].lstrip("#") for o in observations.values() for e in o["relevant-evidence"]]
        check("every observation's evidence is a back-matter resource", hrefs and all(h in resources for h in hrefs))

        pack_path = os.path.join(work, "acme.zip")
        packed = cli("export", "acme", "-o", pack_path, "--as", "ada")
        check("the evidence pack exports", packed.returncode == 0, packed.stdout + packed.stderr)
        with zipfile.ZipFile(pack_path) as pack:
            names = set(pack.namelist())
            for uuid in hrefs:
                link = resources[uuid]["rlinks"][0]
                digest = link["hashes"][0]["value"]
                present = link["href"] in names
                check(f"evidence {link['href']} is in the pack with its SHA-256",
                      present and hashlib.sha256(pack.read(link["href"])).hexdigest() == digest)
        states = {f["target"]["status"]["state"] for f in findings}
        check("findings carry control states", states <= {"satisfied", "not-satisfied"} and "not-satisfied" in states, str(states))
    finally:
        if server:
            server.terminate()
        cli("db", "stop")
        shutil.rmtree(work, ignore_errors=True)
    print(f"oscal: {failures} failures")
    sys.exit(1 if failures else 0)


main()
