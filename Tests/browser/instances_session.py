"""A real browser session through the load balancer of the instance test (InstanceTests): headless
Chromium logs in, reads pages and posts forms while round-robin sends each request to another
`accord serve`. Each request is tagged with the user agent below, so the test reads from the
balancer's log which instance answered it. Run by the Swift test, not by run.sh.

Usage: instances_session.py BASE HANDLE PASSWORD TASK_ID
"""
import sys

from harness import Browser, By, check, run

USER_AGENT_TAG = "accord-instances-session"


class Balancer:
    def __init__(self, base, handle, password):
        self.base = base
        self.passwords = {handle: password}


def main():
    base, handle, password, task = sys.argv[1:5]
    browser = Browser(Balancer(base, handle, password), "instances")
    browser.driver.execute_cdp_cmd("Network.setUserAgentOverride", {"userAgent": f"Mozilla/5.0 {USER_AGENT_TAG}"})

    def body():
        check("logs in through the balancer", browser.login(handle), browser.driver.current_url)
        for path in ["/inbox", "/programs", "/programs/f", f"/tasks/{task}", "/signoffs", "/account"]:
            browser.get(path)
            check(f"{path} shows the session's person", "Log out" in browser.text() and "Log in" not in browser.driver.title, browser.text()[:200])
        # Forms carry the session's CSRF token; each post may land on another instance than the page it came from.
        for n in range(1, 4):
            browser.get(f"/tasks/{task}")
            browser.fill(body=f"comment {n} across instances")
            browser.submit(f"form[action='/tasks/{task}/comments'] button[type=submit]")
            check(f"comment {n} is accepted", "Your comment is added" in browser.text(), browser.text()[:300])
        browser.get(f"/tasks/{task}")
        text = browser.text()
        check("all three comments show once each", all(text.count(f"comment {n} across instances") == 1 for n in range(1, 4)), text[:600])
        browser.logout()
        browser.get("/inbox")
        check("after logging out, no instance knows the session", "/login" in browser.driver.current_url, browser.driver.current_url)

    status = run("instances session", body)
    browser.quit()
    sys.exit(status)


if __name__ == "__main__":
    main()
