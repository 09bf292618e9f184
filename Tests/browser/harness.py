"""What the real-browser tests share: a throwaway Accord server (the demo organisation, or an empty
database with one administrator made by the operator's CLI), headless Chromium through Selenium,
screenshots under test-artifacts/browser/, and the ok/FAILED lines with their summary.

Needs chromium, chromium-driver and python3-selenium (installed by `make test`).
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

ARTIFACTS = os.path.abspath("test-artifacts/browser")
results = []


def check(name, condition, detail=""):
    """One expectation: printed as ok or FAILED, counted in the summary."""
    results.append((name, bool(condition)))
    print(("ok     " if condition else "FAILED ") + name + ("" if condition else f": {detail}"), flush=True)
    return bool(condition)


def summary(label):
    """Prints the counts and returns the exit status."""
    failed = sum(1 for _, ok in results if not ok)
    print(f"{label}: {len(results) - failed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`accord serve` on a free port with its own embedded PostgreSQL in a temporary folder.
    With demo=True it seeds the demo organisation and reads the passwords it prints once; otherwise
    the database is empty but for the administrator `admin_handle`, made with the operator's CLI."""

    def __init__(self, accord, name, demo=True, admin_handle="ada", extra=()):
        self.accord = os.path.abspath(accord)
        self.name = name
        self.home = tempfile.mkdtemp(prefix=f"accord-{name}-", dir="/tmp")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k != "DATABASE_URL"}
        self.env["ACCORD_HOME"] = self.home
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.passwords = {}
        os.makedirs(ARTIFACTS, exist_ok=True)
        self.log = open(os.path.join(ARTIFACTS, f"{name}-server.log"), "w")
        if not demo:
            self.cli("db", "start")
            password = "first-admin-" + os.urandom(6).hex()
            self.cli("user", "add", admin_handle, "--name", "Ada Lovelace", "--email", "ada@example.org", "--admin",
                     "--password-stdin", stdin=password + "\n")
            self.passwords[admin_handle] = password
        arguments = [self.accord, "serve", "--port", str(self.port)] + (["--demo"] if demo else []) + list(extra)
        self.process = subprocess.Popen(arguments, env=self.env, stdout=subprocess.PIPE, stderr=self.log, text=True)
        if demo:
            deadline = time.time() + 120
            while time.time() < deadline and "sam" not in self.passwords:
                line = self.process.stdout.readline()
                if not line:
                    break
                match = re.match(r"^\s+(\w+)\s+(\S+)\s+", line)
                if match:
                    self.passwords[match.group(1)] = match.group(2)
        for _ in range(300):
            try:
                if urllib.request.urlopen(self.base + "/readyz", timeout=2).status == 200:
                    break
            except Exception:
                time.sleep(0.2)

    def cli(self, *arguments, check_status=True, stdin=None):
        """Runs the accord CLI against this server's database (the operator's tool)."""
        done = subprocess.run([self.accord, *arguments], env=self.env, capture_output=True, text=True, input=stdin)
        if check_status and done.returncode != 0:
            raise RuntimeError(f"accord {' '.join(arguments)}: {done.stderr.strip()}")
        return done

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        subprocess.run([self.accord, "db", "stop"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.home, ignore_errors=True)


class Browser:
    """Headless Chromium; `prefix` names the screenshots of one journey."""

    def __init__(self, server, prefix, width=1200, height=1000):
        self.server = server
        self.prefix = prefix
        self.shots = 0
        options = webdriver.ChromeOptions()
        for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--window-size={width},{height}"]:
            options.add_argument(argument)
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        # Downloads (the evidence pack) land in a folder of the journey's own.
        self.downloads = os.path.join(ARTIFACTS, "downloads", prefix)
        os.makedirs(self.downloads, exist_ok=True)
        options.add_experimental_option("prefs", {"download.default_directory": self.downloads, "download.prompt_for_download": False})
        self.driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
        self.driver.set_page_load_timeout(30)

    def get(self, path):
        self.driver.get(self.server.base + path)

    def shot(self, name):
        self.shots += 1
        self.driver.save_screenshot(os.path.join(ARTIFACTS, f"{self.prefix}-{self.shots:02d}-{name}.png"))

    def wait_for(self, condition, timeout=20):
        """A click that submits a form returns before the next page has loaded: wait for it."""
        try:
            WebDriverWait(self.driver, timeout).until(condition)
            return True
        except Exception:
            return False

    def wait_url(self, part):
        return self.wait_for(expected_conditions.url_contains(part))

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def field(self, name):
        return self.driver.find_element(By.NAME, name)

    def fill(self, **fields):
        from selenium.webdriver.support.ui import Select
        for name, value in fields.items():
            element = self.field(name)
            if element.tag_name == "select":
                Select(element).select_by_value(value)
            elif element.get_attribute("type") in ("date", "datetime-local"):
                # Typing into a date control depends on the locale; set the value as a script would.
                self.driver.execute_script("arguments[0].value = arguments[1]", element, value)
            else:
                element.clear()
                element.send_keys(value)

    def submit(self, selector="main form button[type=submit]"):
        """Clicks a submit button and waits for the page it leads to."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        self.driver.find_element(By.CSS_SELECTOR, selector).click()
        self.wait_for(expected_conditions.staleness_of(old))

    def login(self, handle, password=None):
        self.get("/login")
        self.fill(handle=handle, password=password or self.server.passwords.get(handle, ""))
        self.submit("form[action='/login'] button[type=submit]")
        return self.driver.current_url.endswith("/inbox")

    def logout(self):
        self.submit("header form.who button[type=submit]")

    def cookie_header(self):
        return "; ".join(f"{c['name']}={c['value']}" for c in self.driver.get_cookies())

    def quit(self):
        self.driver.quit()


def run(label, body):
    """Runs a test body, printing a failure of the harness itself as a failed check."""
    try:
        body()
    except Exception as error:  # a missing element or a dead server is a failure, shown with its cause
        import traceback
        traceback.print_exc()
        check(f"{label} ran to the end", False, repr(error))
    return summary(label)


__all__ = ["By", "expected_conditions", "check", "summary", "Server", "Browser", "run", "ARTIFACTS", "sys", "time", "re"]
