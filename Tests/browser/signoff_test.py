#!/usr/bin/python3
"""The leader's journey: headless Chromium logs in as a leader of the demo organisation, opens the
inbox, signs a task with the password, and sees it on the leadership page. Screenshots of every page
go to test-artifacts/browser/. Run by `make test` (Tests/browser/run.sh).

Usage: signoff_test.py PATH/TO/accord
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Browser, By, Server, check, expected_conditions, re, run, time  # noqa: E402


def main():
    server = Server(sys.argv[1] if len(sys.argv) > 1 else ".build/debug/accord", "signoff")
    passwords = server.passwords
    browser = None
    try:
        check("the demo organisation is seeded and its passwords printed once", "grace" in passwords, "see the server log")
        browser = Browser(server, "signoff")
        driver = browser.driver
        browser.get("/inbox")
        check("an anonymous visitor is sent to the login page", driver.current_url.endswith("/login"), driver.current_url)
        browser.shot("1-login")
        driver.find_element(By.NAME, "handle").send_keys("grace")
        driver.find_element(By.NAME, "password").send_keys(passwords.get("grace", ""))
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        browser.wait_for(expected_conditions.url_contains("/inbox"))
        check("logging in leads to the inbox", driver.current_url.endswith("/inbox"), driver.current_url)
        body = driver.find_element(By.TAG_NAME, "body").text
        check("the inbox shows who is logged in", "Grace Hopper (grace)" in body, body[:200])
        check("the AI policy waits for Grace's signature", "Write and approve the AI policy" in body, body[:400])
        for _ in range(20):  # the server's scheduler makes its first pass as it starts
            if "Escalation level" in body:
                break
            time.sleep(0.5)
            browser.get("/inbox")
            body = driver.find_element(By.TAG_NAME, "body").text
        check("one scheduler pass put the escalations of late work in the inbox", "Reminders and escalations" in body and "Escalation level 2 to top-management" in body, body[:400])
        browser.shot("2-inbox")
        driver.find_element(By.LINK_TEXT, "Write and approve the AI policy").click()
        browser.wait_for(expected_conditions.presence_of_element_located((By.NAME, "password")))
        body = driver.find_element(By.TAG_NAME, "body").text
        check("the task page shows legal's signature and asks for the password again", "Your password, again" in body and "Alan Turing" in body, body[:400])
        browser.shot("3-task")
        driver.find_element(By.NAME, "password").send_keys(passwords.get("grace", ""))
        driver.find_element(By.NAME, "comment").send_keys("Approved for the board")
        driver.find_element(By.CSS_SELECTOR, "button[value=approve]").click()
        browser.wait_for(expected_conditions.url_contains("signed=1"))
        body = driver.find_element(By.TAG_NAME, "body").text
        check("the signature is recorded and the task is done", "Your decision is recorded." in body and "approved as top-management" in body and "done" in body, body[:600])
        browser.shot("4-signed")
        browser.get("/leadership")
        rows = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "tbody tr")]
        grace = next((row for row in rows if row.startswith("Grace Hopper")), "")
        check("the leadership page counts Grace's signatures", re.search(r"top-management 1 0 2 ", grace) is not None, grace)
        browser.shot("5-leadership")
        browser.get("/programs/acme")
        check("the program page draws the timeline", driver.find_element(By.CSS_SELECTOR, "img.timeline").get_attribute("src").endswith("timeline.svg"))
        browser.shot("6-program")
        browser.get("/audit")
        check("the audit page verifies the chain", "entries verified" in driver.find_element(By.TAG_NAME, "body").text)
        browser.shot("7-audit")
    finally:
        if browser is not None:
            browser.quit()
        server.stop()


if __name__ == "__main__":
    sys.exit(run("browser: leader signs", main))
