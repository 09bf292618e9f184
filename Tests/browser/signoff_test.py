#!/usr/bin/python3
"""The real-browser test: headless Chromium logs in as a leader of the demo organisation, opens the
inbox, signs a task with the password, and sees it on the leadership page. Screenshots of every page
go to test-artifacts/browser/. Run by `make test`; needs chromium, chromium-driver and python3-selenium.

Usage: signoff_test.py PATH/TO/accord
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

ACCORD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".build/debug/accord")
ARTIFACTS = os.path.abspath("test-artifacts/browser")
results = []


def check(name, condition, detail=""):
    results.append((name, bool(condition)))
    print(("ok     " if condition else "FAILED ") + name + ("" if condition else f": {detail}"), flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    os.makedirs(ARTIFACTS, exist_ok=True)
    home = tempfile.mkdtemp(prefix="accord-browser-", dir="/tmp")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k != "DATABASE_URL"}
    env["ACCORD_HOME"] = home
    port = free_port()
    log = open(os.path.join(ARTIFACTS, "server.log"), "w")
    server = subprocess.Popen([ACCORD, "serve", "--demo", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    driver = None
    try:
        passwords = {}
        deadline = time.time() + 120
        while time.time() < deadline and "sam" not in passwords:
            line = server.stdout.readline()
            if not line:
                break
            match = re.match(r"^\s+(\w+)\s+(\S+)\s+", line)
            if match:
                passwords[match.group(1)] = match.group(2)
        check("the demo organisation is seeded and its passwords printed once", "grace" in passwords, f"server output ended; see {log.name}")
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if urllib.request.urlopen(base + "/readyz", timeout=2).status == 200:
                    break
            except Exception:
                time.sleep(0.2)
        options = webdriver.ChromeOptions()
        for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,1000"]:
            options.add_argument(argument)
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
        driver.set_page_load_timeout(30)

        def shot(name):
            driver.save_screenshot(os.path.join(ARTIFACTS, name + ".png"))

        def wait_for(condition):
            """A click that submits a form returns before the next page has loaded: wait for it."""
            try:
                WebDriverWait(driver, 20).until(condition)
            except Exception:
                pass

        driver.get(base + "/inbox")
        check("an anonymous visitor is sent to the login page", driver.current_url.endswith("/login"), driver.current_url)
        shot("1-login")
        driver.find_element(By.NAME, "handle").send_keys("grace")
        driver.find_element(By.NAME, "password").send_keys(passwords.get("grace", ""))
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait_for(expected_conditions.url_contains("/inbox"))
        check("logging in leads to the inbox", driver.current_url.endswith("/inbox"), driver.current_url)
        body = driver.find_element(By.TAG_NAME, "body").text
        check("the inbox shows who is logged in", "Grace Hopper (grace)" in body, body[:200])
        check("the AI policy waits for Grace's signature", "Write and approve the AI policy" in body, body[:400])
        for _ in range(20):  # the server's scheduler makes its first pass as it starts
            if "Escalation level" in body:
                break
            time.sleep(0.5)
            driver.get(base + "/inbox")
            body = driver.find_element(By.TAG_NAME, "body").text
        check("one scheduler pass put the escalations of late work in the inbox", "Reminders and escalations" in body and "Escalation level 2 to top-management" in body, body[:400])
        shot("2-inbox")
        driver.find_element(By.LINK_TEXT, "Write and approve the AI policy").click()
        wait_for(expected_conditions.presence_of_element_located((By.NAME, "password")))
        body = driver.find_element(By.TAG_NAME, "body").text
        check("the task page shows legal's signature and asks for the password again", "Your password, again" in body and "Alan Turing" in body, body[:400])
        shot("3-task")
        driver.find_element(By.NAME, "password").send_keys(passwords.get("grace", ""))
        driver.find_element(By.NAME, "comment").send_keys("Approved for the board")
        driver.find_element(By.CSS_SELECTOR, "button[value=approve]").click()
        wait_for(expected_conditions.url_contains("signed=1"))
        body = driver.find_element(By.TAG_NAME, "body").text
        check("the signature is recorded and the task is done", "Your decision is recorded." in body and "approved as top-management" in body and "done" in body, body[:600])
        shot("4-signed")
        driver.get(base + "/leadership")
        rows = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "tbody tr")]
        grace = next((row for row in rows if row.startswith("Grace Hopper")), "")
        check("the leadership page counts Grace's signatures", re.search(r"top-management 1 0 2 ", grace) is not None, grace)
        shot("5-leadership")
        driver.get(base + "/programs/acme")
        check("the program page draws the timeline", driver.find_element(By.CSS_SELECTOR, "img.timeline").get_attribute("src").endswith("timeline.svg"))
        shot("6-program")
        driver.get(base + "/audit")
        check("the audit page verifies the chain", "entries verified" in driver.find_element(By.TAG_NAME, "body").text)
        shot("7-audit")
    finally:
        if driver is not None:
            driver.quit()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        subprocess.run([ACCORD, "db", "stop"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(home, ignore_errors=True)
    failed = sum(1 for _, ok in results if not ok)
    print(f"browser: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
