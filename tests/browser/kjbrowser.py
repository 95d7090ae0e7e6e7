"""kjbrowser.py - Debian's chromium, headless, driven through chromedriver
(python3-selenium, Debian's package) for the web apps' browser tests.

Every test page runs with the network closed except 127.0.0.1: the host
resolver maps every other name to nowhere, and `other_hosts()` lists any
request the page tried to make elsewhere from chromium's performance log,
so "no request leaves the PC" is asserted, not assumed.

Run with Debian's /usr/bin/python3 (python3-selenium lives in its
dist-packages); tests/browser/CMakeLists.txt does.
"""
import json
import os
import shutil
import time
import urllib.parse

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = os.environ.get("KJ_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("KJ_CHROMEDRIVER", "/usr/bin/chromedriver")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}

# Sizes the pages must work at (ui.md): an office PC and a phone.
DESKTOP = (1366, 768)
PHONE = (360, 740)


class Browser:
    """One headless chromium.  Use as a context manager:

        with Browser(PHONE) as b:
            b.get(url + "/kiosk")
            b.click("#kirim")

    size: (width, height) in CSS pixels.  lang: the Accept-Language the
    browser sends (the apps default to Indonesian)."""

    def __init__(self, size=DESKTOP, lang="id-ID"):
        for p in (CHROMIUM, CHROMEDRIVER):
            if not shutil.which(p):
                raise SystemExit(f"{p} not found: run scripts/install-deps")
        o = webdriver.ChromeOptions()
        o.binary_location = CHROMIUM
        for a in (
            "--headless=new",
            "--no-sandbox",  # root in CI containers
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            f"--window-size={size[0]},{size[1]}",
            f"--lang={lang}",
            # every name but loopback resolves to nowhere: a page that tries
            # another host fails visibly and other_hosts() names it
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1, EXCLUDE localhost",
        ):
            o.add_argument(a)
        o.add_experimental_option("prefs", {"intl.accept_languages": lang})
        if size[0] < 500:
            # a headless window is at least 500 px wide: a phone is emulated
            # (viewport, touch, device pixel ratio) as DevTools does
            o.add_experimental_option("mobileEmulation", {
                "deviceMetrics": {"width": size[0], "height": size[1], "pixelRatio": 2.0,
                                  "touch": True, "mobile": True}})
        o.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=o)
        self.driver.set_page_load_timeout(30)
        self.size = size
        self._perf = []
        self._console = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        if self.driver:
            try:
                self.driver.quit()
            finally:
                self.driver = None

    # --- navigation and elements -------------------------------------------

    def get(self, url):
        self.driver.get(url)

    def find(self, css, timeout=10):
        """The element matching css once it is visible (raises on timeout)."""
        return WebDriverWait(self.driver, timeout).until(
            EC.visibility_of_element_located((By.CSS_SELECTOR, css)))

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def click(self, css, timeout=10):
        WebDriverWait(self.driver, timeout).until(
            EC.element_to_be_clickable((By.CSS_SELECTOR, css))).click()

    def type(self, css, text, clear=True):
        e = self.find(css)
        if clear:
            e.clear()
        e.send_keys(text)
        return e

    def text(self, css, timeout=10):
        return self.find(css, timeout).text

    def wait_text(self, css, needle, timeout=10):
        """Wait until the element's text contains needle; returns the text."""
        # the text is read in the same step that finds it: a page that
        # draws the element again between a find and a read (a re-render)
        # makes a stale element, and the wait then simply looks again
        def shown(d):
            t = d.find_element(By.CSS_SELECTOR, css).text
            return t if needle in t else False
        try:
            return WebDriverWait(self.driver, timeout,
                                 ignored_exceptions=(StaleElementReferenceException,)).until(shown)
        except TimeoutException:
            got = [e.text for e in self.find_all(css)]
            raise AssertionError(f"{css}: {needle!r} not shown within {timeout} s; shown: {got!r}")

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def cookies(self):
        return {c["name"]: c for c in self.driver.get_cookies()}

    # --- what the page did -------------------------------------------------

    def _drain(self):
        for entry in self.driver.get_log("performance"):
            try:
                self._perf.append(json.loads(entry["message"])["message"])
            except (KeyError, ValueError):
                pass
        self._console.extend(self.driver.get_log("browser"))

    def requests(self):
        """Every URL the page asked for so far (chromium's network log)."""
        self._drain()
        return [m["params"]["request"]["url"] for m in self._perf
                if m.get("method") == "Network.requestWillBeSent"]

    def other_hosts(self):
        """URLs of requests to any host but loopback (must stay empty)."""
        out = []
        for u in self.requests():
            p = urllib.parse.urlsplit(u)
            if p.scheme in ("data", "blob", "about", "chrome", "devtools"):
                continue
            if p.hostname not in LOCAL_HOSTS:
                out.append(u)
        return out

    def js_errors(self):
        """Console errors raised by scripts (not 4xx answers a test caused)."""
        self._drain()
        return [e["message"] for e in self._console
                if e.get("level") == "SEVERE" and e.get("source") == "javascript"]

    def console(self):
        self._drain()
        return list(self._console)

    # --- evidence ----------------------------------------------------------

    def screenshot(self, name):
        """Save a PNG as $KJ_SCREENSHOT_DIR/name.png when that is set (make
        screenshots refreshes docs/screenshots/); always returns the PNG."""
        png = self.driver.get_screenshot_as_png()
        d = os.environ.get("KJ_SCREENSHOT_DIR")
        if d:
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, name + ".png"), "wb") as f:
                f.write(png)
        return png

    def first_render_ms(self):
        """Navigation start to the first contentful paint of the current
        page, in ms (for the benchmark; tests never assert on time)."""
        v = self.js("const p = performance.getEntriesByName('first-contentful-paint');"
                    "return p.length ? p[0].startTime : null;")
        return v


def wait_until(pred, timeout=10, step=0.1, what="condition"):
    """Poll pred() until it is truthy; its value, or AssertionError naming what."""
    end = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() > end:
            raise AssertionError(f"{what}: not true within {timeout} s")
        time.sleep(step)
