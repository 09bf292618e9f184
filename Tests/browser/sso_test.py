#!/usr/bin/python3
"""Single sign-on in a real browser: headless Chromium logs in to the demo organisation through a real
OpenID provider (Tests/sso/oidc_provider.py, on Authlib), signs the AI policy with a fresh login at the
provider, sees the signature's method on the task page, and is logged out everywhere when the account
is disabled. Run by `make test` (Tests/browser/run.sh).

Usage: sso_test.py PATH/TO/accord
"""
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Browser, By, Server, check, expected_conditions, run  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def start_provider(redirect):
    process = subprocess.Popen(
        ["/usr/bin/python3", os.path.join(HERE, "..", "sso", "oidc_provider.py"),
         "--client", f"accord:browser-secret:{redirect}", "--user", "sub-grace:grace:grace-at-idp:grace@example.org"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    words = process.stdout.readline().split()
    if len(words) != 2 or words[0] != "ready":
        raise RuntimeError("the OpenID provider did not start (python3-authlib, python3-flask)")
    return process, f"http://127.0.0.1:{words[1]}"


def provider_login(browser, password="grace-at-idp"):
    """The provider's own login form, as a person fills it."""
    browser.wait_for(expected_conditions.presence_of_element_located((By.ID, "provider-login")))
    browser.driver.find_element(By.ID, "username").send_keys("grace")
    browser.driver.find_element(By.ID, "password").send_keys(password)
    browser.driver.find_element(By.ID, "provider-login").click()


def main():
    server = Server(sys.argv[1] if len(sys.argv) > 1 else ".build/debug/accord", "sso")
    provider, issuer = start_provider(server.base + "/sso/callback")
    browser = None

    def body():
        nonlocal browser
        with tempfile.NamedTemporaryFile("w", suffix=".secret", delete=False) as secret:
            secret.write("browser-secret\n")
        added = server.cli("sso", "add", issuer, "--client-id", "accord", "--client-secret-file", secret.name, "--name", "Test IdP", "--as", "ada")
        os.unlink(secret.name)
        check("accord sso add fetches the discovery document and seals the secret", "discovery:" in added.stdout and "client secret sealed" in added.stdout, added.stdout)
        server.cli("sso", "link", "grace", "--issuer", "1", "--subject", "sub-grace", "--as", "ada")
        browser = Browser(server, "sso")
        driver = browser.driver
        browser.get("/login")
        check("the login page offers the provider", "Log in with Test IdP" in browser.text(), browser.text()[:300])
        browser.shot("1-login")
        driver.find_element(By.XPATH, "//button[contains(., 'Log in with Test IdP')]").click()
        check("Accord sends the browser to the provider", browser.wait_url(issuer.split("//")[1]), driver.current_url)
        browser.shot("2-provider")
        provider_login(browser)
        check("the provider sends the browser back, logged in to the inbox", browser.wait_url("/inbox"), driver.current_url)
        check("the inbox is Grace's", "Grace Hopper (grace)" in browser.text(), browser.text()[:200])
        browser.shot("3-inbox")
        driver.find_element(By.LINK_TEXT, "Write and approve the AI policy").click()
        browser.wait_for(expected_conditions.presence_of_element_located((By.NAME, "issuer")))
        check("the task page offers signing with a fresh login at the provider", "Sign with a fresh login at Test IdP" in browser.text(), browser.text()[:400])
        driver.find_element(By.CSS_SELECTOR, "form[action$='/sign-sso'] input[name=comment]").send_keys("Approved after a fresh login")
        browser.shot("4-task")
        driver.find_element(By.XPATH, "//button[contains(., 'Sign with a fresh login at Test IdP')]").click()
        check("signing asks the provider for a fresh login, even with a provider session", browser.wait_for(
            expected_conditions.presence_of_element_located((By.ID, "provider-login"))), driver.current_url)
        provider_login(browser)
        check("back on the task, the decision is recorded", browser.wait_url("signed=1"), driver.current_url)
        text = browser.text()
        check("the signature names its method: single sign-on at the provider, with the login's time",
              f"single sign-on at {issuer}, fresh login at" in text and "approved as top-management" in text, text[:800])
        browser.shot("5-signed")
        # The identity provider deprovisions her over SCIM: the browser's session ends at once.
        token = server.cli("token", "create", "--scim", "--name", "idp", "--admin-override", "browser test", "--as", "ada").stdout.strip()

        def scim(method, path, body=None):
            request = urllib.request.Request(server.base + "/scim/v2" + path, method=method, data=json.dumps(body).encode() if body else None,
                                             headers={"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"})
            with urllib.request.urlopen(request, timeout=20) as response:
                return json.loads(response.read() or b"{}")

        grace = scim("GET", '/Users?filter=userName%20eq%20%22grace%22')["Resources"][0]
        changed = scim("PATCH", f"/Users/{grace['id']}", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                                        "Operations": [{"op": "replace", "path": "active", "value": False}]})
        check("SCIM deactivates Grace", changed.get("active") is False, changed)
        browser.get("/inbox")
        check("SCIM deactivation ends her SSO session at once", driver.current_url.endswith("/login"), driver.current_url)

    try:
        return run("browser: sso", body)
    finally:
        if browser:
            browser.quit()
        provider.terminate()
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
