#!/usr/bin/python3
"""The journeys of issue 16, each in a real browser (headless Chromium), with screenshots in
test-artifacts/browser/:
  * the administrator's first day, from an empty database to a running program whose first tasks are
    assigned, worked, signed and exported as an evidence pack, without a terminal (only the first
    administrator is made by the operator's CLI);
  * out of office, a finding and an incident, on the demo organisation.
(The leader signing from the inbox is signoff_test.py.)

Usage: journeys_test.py PATH/TO/accord
"""
import datetime
import glob
import os
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Browser, By, Server, check, run  # noqa: E402

ACCORD = sys.argv[1] if len(sys.argv) > 1 else ".build/debug/accord"
BROKEN_WORKFLOW = "id: broken\nversion: 1\ntitle: Broken\nroles:\n  lead: {title: Lead}\nsteps:\n  - key: s1\n    title: S1\n    owner: nobody\n    tasks: []\n"


def files(folder, named):
    paths = []
    for name, text in named:
        path = os.path.join(folder, name)
        with open(path, "w") as f:
            f.write(text)
        paths.append(path)
    return paths


def task_link(browser, program, title):
    """The page of the program's task with this title, found through the program page's filter."""
    browser.get(f"/programs/{program}")
    for link in browser.driver.find_elements(By.CSS_SELECTOR, "main table a[href^='/tasks/']"):
        if link.text.strip() == title:
            return link.get_attribute("href")
    return None


def work_task(browser, link, evidence, label):
    """Start, upload evidence (several files at once) and submit, as the task's owner."""
    browser.driver.get(link)
    if not check(f"{label}: the task's owner can start it", browser.driver.find_elements(By.CSS_SELECTOR, "form[action$='/start'] button"), browser.text()[:600]):
        return browser.text()
    browser.submit("form[action$='/start'] button")
    check(f"{label}: starting says what comes next", "The task is started" in browser.text(), browser.text()[:300])
    upload = browser.driver.find_element(By.CSS_SELECTOR, "input[type=file]")
    upload.send_keys("\n".join(evidence))
    browser.submit("form[enctype='multipart/form-data'] button[type=submit]")
    names = [os.path.basename(p) for p in evidence]
    check(f"{label}: every file uploaded at once is stored and listed", all(n in browser.text() for n in names), browser.text()[:500])
    browser.shot(f"{label}-evidence")
    browser.submit("form[action$='/submit'] button")
    return browser.text()


def first_day():
    server = Server(ACCORD, "first-day", demo=False)
    browser = Browser(server, "first-day")
    folder = tempfile.mkdtemp(prefix="accord-journey-")
    try:
        check("the administrator logs in to an empty Accord", browser.login("ada"), browser.driver.current_url)
        # People, each with a one-time link to choose their password.
        links = {}
        for handle, name in [("lin", "Lin Wei"), ("sam", "Sam Okafor"), ("grace", "Grace Hopper")]:
            browser.get("/people")
            browser.fill(handle=handle, name=name, email=f"{handle}@example.org")
            browser.submit("form[action='/people'][method=post] button[type=submit]")
            codes = [c.text for c in browser.driver.find_elements(By.CSS_SELECTOR, "main code") if "/set-password/" in c.text]
            links[handle] = codes[0] if codes else ""
        check("adding a person shows their one-time set-password link", all(links.values()), links)
        browser.shot("person-added")
        # A workflow file with a mistake: every problem at LINE:COLUMN beside the file's name, nothing stored.
        broken = files(folder, [("broken.yaml", BROKEN_WORKFLOW)])[0]
        browser.get("/workflows")
        browser.driver.find_element(By.CSS_SELECTOR, "input[type=file][name=file]").send_keys(broken)
        browser.submit("form[action='/workflows'] button[type=submit]")
        text = browser.text()
        check("an invalid workflow upload shows LINE:COLUMN problems beside the file's name",
              "broken.yaml" in text and any(f"{line}:" in text for line in range(1, 11)), text[:600])
        browser.shot("workflow-refused")
        browser.get("/workflows")
        check("nothing of the invalid workflow is stored", "broken" not in browser.driver.find_element(By.TAG_NAME, "main").text.lower().split("load a workflow")[0])
        # A program from the built-in roadmap.
        browser.get("/programs/new")
        browser.fill(title="ACME AI compliance", slug="acme")
        browser.submit("form[action='/programs/new'] button[type=submit]")
        check("starting a program leads to its page", browser.driver.current_url.split("?")[0].endswith("/programs/acme"), browser.driver.current_url)
        browser.shot("program-started")
        # Roles.
        for role, handle in [("aims-manager", "lin"), ("top-management", "grace"), ("legal", "sam"), ("system-owner", "sam")]:
            browser.get("/programs/acme/roles")
            browser.driver.find_element(By.ID, f"holder-{role}").send_keys(handle)
            browser.submit(f"form[action='/programs/acme/roles/{role}/holders'] button[type=submit]")
        browser.get("/programs/acme/roles")
        roles_text = browser.text()
        check("the roles page lists the holders bound", all(h in roles_text for h in ["lin", "grace", "sam"]), roles_text[:500])
        browser.shot("roles")
        # An AI system by form.
        browser.get("/programs/acme/systems")
        browser.fill(name="CV Screener", role="provider", risk="high", annex_iii="4", owner="sam", purpose="Ranks job applications")
        browser.submit("form[action='/programs/acme/systems'] button[type=submit]")
        browser.get("/programs/acme/systems")
        check("the inventory lists the system added", "CV Screener" in browser.text(), browser.text()[:400])
        browser.shot("systems")
        # Its classification by the questionnaire: one question more per Continue, then the result.
        browser.get("/programs/acme/systems/cv-screener")
        check("a system from the inventory form needs review", "Classification needs review" in browser.text(), browser.text()[:400])
        browser.driver.find_element(By.LINK_TEXT, "Classify by the questionnaire").click()
        answers = {"roles": "provider", "is-ai-system": "yes", "scope-exclusions": "none", "prohibited": "none",
                   "annex-i-product": "no", "annex-iii-area": "employment", "annex-iii-4": "recruitment", "profiling": "yes",
                   "value-chain": "none", "transparency": "none", "gpai-model": "none", "outside-union": "no",
                   "public-service": "no", "size": "large", "legacy": "no"}
        asked = 0
        while not browser.driver.find_elements(By.CSS_SELECTOR, "button[value=record]") and asked < 30:
            current = browser.driver.find_element(By.CSS_SELECTOR, "fieldset.current")
            question = current.get_attribute("id").removeprefix("question-")
            value = answers[question]
            box = current.find_elements(By.CSS_SELECTOR, f"input[name='q-{question}--{value}'], input[name='q-{question}'][value='{value}']")
            box[0].click()
            browser.submit("button[value=continue]")
            asked += 1
        result = browser.text()
        check("the questionnaire ends in the result with its articles and task changes",
              "high-risk, Annex III point 4(a)" in result and "acme/risk-management@cv-screener" not in result and "ai-act:art-6" in result, result[:600])
        browser.shot("classification-result")
        browser.submit("button[value=record]")
        check("recording the classification leads to the system, its tasks following it",
              "The classification is recorded" in browser.text() and "Classification needs review" not in browser.text(), browser.text()[:400])
        # Assign every unassigned task of the AIMS manager's role to Lin, in one submit.
        browser.get("/programs/acme?owner_role=aims-manager&unassigned=true&per_page=100")
        boxes = browser.driver.find_elements(By.CSS_SELECTOR, "input[type=checkbox][name^=select_]")
        for box in boxes:
            box.click()
        browser.fill(assignee_all="lin")
        browser.shot("assign-chosen")
        browser.submit("form[action='/programs/acme/assign'] button[type=submit]")
        check("one submit assigns every selected task", f"{len(boxes)} tasks assigned" in browser.text() and len(boxes) > 1, browser.text()[:400])
        browser.shot("assigned")
        browser.logout()

        # Lin chooses a password and does the inventory; Sam classifies; Lin signs as AIMS manager.
        for handle in ["lin", "sam"]:
            browser.driver.get(links[handle])
            browser.fill(password=f"{handle} chooses a long password", password_confirmation=f"{handle} chooses a long password")
            browser.submit()
        check("the link sets the password and leads to the login page", "/login" in browser.driver.current_url, browser.driver.current_url)
        browser.driver.get(links["sam"])
        check("a link works once", browser.driver.find_elements(By.CSS_SELECTOR, "input[name=password_confirmation]") == [], browser.text()[:200])
        check("the new person logs in with the password they chose", browser.login("lin", "lin chooses a long password"))
        inventory = task_link(browser, "acme", "Inventory every AI system developed, deployed or reused")
        text = work_task(browser, inventory, files(folder, [("inventory.csv", "name,role\nCV Screener,provider\n"), ("method.txt", "How we looked.\n")]), "inventory")
        check("the inventory, needing no sign-off, is done on submit", "done" in text, text[:300])
        browser.logout()
        browser.login("sam", "sam chooses a long password")
        classify = task_link(browser, "acme", "Set the classification method and record the organisation-wide reasoning")
        text = work_task(browser, classify, files(folder, [("classification.md", "# CV Screener\nhigh risk, Annex III 4\n"), ("notes.txt", "Reasoning.\n")]), "classify")
        check("submitting sends the classification for review", "Submitted for review" in text and "in_review" in text, text[:300])
        browser.shot("submitted")
        # A comment on the task, seen by its people.
        browser.field("body").send_keys("The memo covers both systems.")
        browser.submit("form[action$='/comments'] button[type=submit]")
        check("a comment shows in the thread with its author", "The memo covers both systems." in browser.text() and "Sam Okafor" in browser.text(), browser.text()[-600:])
        browser.logout()
        browser.login("lin", "lin chooses a long password")
        browser.get("/signoffs")
        check("the signer finds it in the sign-off list", "Set the classification method" in browser.text(), browser.text()[:400])
        browser.shot("signoffs")
        browser.driver.get(classify)
        check("the signer sees the comment in the task's thread", "The memo covers both systems." in browser.text())
        browser.fill(password="lin chooses a long password", comment="Classification checked")
        browser.submit("button[value=approve]")
        check("the signature is recorded and the task is done", "Your decision is recorded." in browser.text() and "done" in browser.text(), browser.text()[:400])
        browser.shot("signed")
        browser.logout()
        # The auditor's download: the evidence pack from the program page.
        browser.login("ada")
        browser.get("/programs/acme")
        # A download: the page stays, the file arrives in the browser's download folder.
        browser.driver.find_element(By.CSS_SELECTOR, "form[action='/programs/acme/pack'] button[type=submit]").click()
        pack = None
        for _ in range(120):
            done = [p for p in glob.glob(os.path.join(browser.downloads, "*.zip"))]
            if done:
                pack = done[0]
                break
            time.sleep(0.5)
        check("the evidence pack downloads from the program page", pack is not None, os.listdir(browser.downloads))
        if pack:
            with zipfile.ZipFile(pack) as z:
                names = z.namelist()
            check("the pack holds the evidence uploaded in the browser", any(n.endswith("classification.md") for n in names), names[:20])
            verify = server.cli("verify-pack", pack, check_status=False)
            check("the downloaded pack verifies offline", verify.returncode == 0, verify.stdout[-300:] + verify.stderr[-300:])
        browser.get("/audit")
        check("the export is recorded in the audit chain", "entries verified" in browser.text())
        browser.shot("audit")
    finally:
        browser.quit()
        server.stop()


def demo_journeys():
    server = Server(ACCORD, "improve")
    browser = Browser(server, "improve")
    try:
        # Out of office: Grace is away; Kat stands in for her as top management.
        browser.login("grace")
        browser.get("/account/away")
        today = datetime.date.today()
        browser.fill(**{"from": today.isoformat(), "until": (today + datetime.timedelta(days=14)).isoformat(), "reason": "Annual leave"})
        deputies = browser.driver.find_elements(By.CSS_SELECTOR, "input[name^=deputy_]")
        check("the away page offers a deputy for each role held", deputies, browser.text()[:300])
        if deputies:
            deputies[0].send_keys("kat")
        browser.submit("form[action='/account/away'] button[type=submit]")
        check("the away page shows the deputy named", "top-management acme kat" in browser.text(), browser.text()[:600])
        browser.shot("away")
        browser.logout()
        browser.login("kat")
        browser.get("/account/away")
        check("the deputy's page says whom they stand in for", "You stand in for grace as top-management" in browser.text(), browser.text()[:600])
        browser.shot("deputy")
        browser.logout()
        # A finding and an incident.
        browser.login("ada")
        browser.get("/programs/acme/findings")
        browser.fill(title="Bias test missing for the CV screener", severity="major")
        browser.submit("form[action='/programs/acme/findings'] button[type=submit]")
        check("a raised finding has its page with linked tasks", "Bias test missing" in browser.text() and "/tasks/" in browser.driver.page_source, browser.text()[:500])
        browser.shot("finding")
        browser.get("/programs/acme/incidents")
        aware = (datetime.datetime.utcnow() - datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
        browser.fill(aware_at=aware, summary="Screener rejected every applicant over 50 for a day")
        browser.submit("form[action='/programs/acme/incidents'] button[type=submit]")
        text = browser.text()
        check("a reported incident shows its Art. 73 deadline in UTC and the time left", "UTC" in text and "left" in text, text[:600])
        browser.shot("incident")
    finally:
        browser.quit()
        server.stop()


def main():
    for journey in [first_day, demo_journeys]:
        print(f"-- journey: {journey.__name__}", flush=True)
        try:
            journey()
        except Exception as error:
            import traceback
            traceback.print_exc()
            check(f"{journey.__name__} ran to the end", False, repr(error))


if __name__ == "__main__":
    sys.exit(run("browser: journeys", main))
