"""Drives a real headless Chromium, through Selenium and Debian's chromedriver, at the server.

Each Browser is one Chromium with a fresh profile in a temporary directory, a fixed viewport
and nothing to fetch beyond loopback. Tests wait for conditions with WebDriverWait, never for
time. The server side is tests/integration/harness.py, imported from there.

The packages come from scripts/install-deps.sh (chromium, chromium-driver, python3-selenium);
when any is missing, the test fails saying so: a browser test that skipped would pass unseen.
"""

import os
import shutil
import struct
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import harness  # noqa: E402  (the real server on port 0, for the tests to use from here)

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:
    raise ImportError("python3-selenium is not installed: run scripts/install-deps.sh "
                      f"(make test does) to install the browser tests' packages ({e})") from e

__all__ = ["Browser", "DESKTOP", "PHONE", "harness", "png_size", "require_browser"]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_SECONDS = 20  # the longest any condition is waited for; a safety net, not a pause

DESKTOP = (1280, 900)  # CSS pixels of the viewport
PHONE = (360, 740)


def require_browser():
    """Fails (AssertionError) naming what is missing when Chromium or its driver is absent."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        raise AssertionError(
            f"{' and '.join(missing)} not found: the browser tests need Debian's chromium and "
            "chromium-driver; run scripts/install-deps.sh (make test does)")


class Browser:
    """One headless Chromium. `phone=True` emulates a touch phone of PHONE's viewport (device
    pixel ratio 1); otherwise a desktop window of DESKTOP's. Call quit() (or use it as a context
    manager) to end the browser and remove its profile."""

    def __init__(self, phone=False):
        require_browser()
        self.viewport = PHONE if phone else DESKTOP
        self.profile = tempfile.mkdtemp(prefix="countersign-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                    f"--user-data-dir={self.profile}", "--lang=en-US",
                    "--force-device-scale-factor=1", "--hide-scrollbars",
                    "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-default-apps", "--no-proxy-server"):
            options.add_argument(arg)
        if phone:
            width, height = PHONE
            options.add_experimental_option("mobileEmulation", {
                "deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0,
                                  "mobile": True, "touch": True}})
        else:
            options.add_argument("--window-size=%d,%d" % DESKTOP)
        options.add_experimental_option("prefs", {"intl.accept_languages": "en-US"})
        service = Service(CHROMEDRIVER, log_path=os.path.join(self.profile, "chromedriver.log"))
        try:
            self.driver = webdriver.Chrome(service=service, options=options)
        except Exception:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise
        if not phone:
            self._fit_viewport()

    def _fit_viewport(self, want=DESKTOP):
        """Sizes the window so that the page's viewport (not the window) is `want`."""
        want_width, want_height = want
        width, height = self.driver.execute_script(
            "return [window.innerWidth, window.innerHeight];")
        if (width, height) != tuple(want):
            size = self.driver.get_window_size()
            self.driver.set_window_size(size["width"] + want_width - width,
                                        size["height"] + want_height - height)

    def set_viewport(self, width, height):
        """Resizes a desktop browser so that its viewport is `width` x `height` CSS pixels."""
        self._fit_viewport((width, height))
        self.viewport = (width, height)

    def quit(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.quit()

    # -- waiting -----------------------------------------------------------------------------
    def wait_until(self, condition, message=""):
        """The first truthy value of condition(driver), polled until WAIT_SECONDS pass (then a
        TimeoutException carrying `message`)."""
        # While a page is replaced, Chromium may answer a call about the old one with a plain
        # WebDriverException ("Node with given id does not belong to the document") instead of
        # a stale-element error: that is the page changing, so poll again. A condition that
        # never holds still fails, with `message`, once WAIT_SECONDS pass.
        return WebDriverWait(self.driver, WAIT_SECONDS,
                             ignored_exceptions=(WebDriverException,)).until(condition, message)

    def open(self, url):
        """Loads `url` and waits for the document to finish loading."""
        self.driver.get(url)
        self.wait_for_load()

    def wait_for_load(self):
        self.wait_until(lambda d: d.execute_script("return document.readyState") == "complete",
                        "the page did not finish loading")

    # -- what the page holds -----------------------------------------------------------------
    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def viewport_size(self):
        return tuple(self.js("return [window.innerWidth, window.innerHeight];"))

    def overflows_horizontally(self):
        """Whether the page is wider than its viewport (a phone would scroll sideways)."""
        return self.js("return document.documentElement.scrollWidth > window.innerWidth;")

    def save_screenshot(self, path):
        """Writes the viewport as a PNG at `path` (directories made as needed); returns its
        (width, height) in pixels."""
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        if not self.driver.save_screenshot(path):
            raise AssertionError(f"Chromium could not write the screenshot {path}")
        return png_size(path)


def png_size(path):
    """(width, height) of the PNG file at `path`; AssertionError when it is not a PNG."""
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise AssertionError(f"{path} is not a PNG file")
    return struct.unpack(">II", head[16:24])
