"""The built docs site, served on loopback and opened in headless Chromium.

Every page must load with no SEVERE entry in the browser's console log (a script error,
a failed request, a missing asset), and every tutorial page must show its figures
(``img`` elements whose ``naturalWidth`` is positive once the page has loaded). The home
page and one tutorial are saved as screenshots.

Needs the docs requirements (``docs/requirements.txt``: mkdocs and friends, selenium) and
Debian's ``chromium`` and ``chromium-driver``; skips, saying which is missing, without
them. The site is built into a temporary folder with ``mkdocs build --strict`` unless
``SEQLAB_DOCS_SITE`` names an already built one (``make docs`` writes ``site/``).
Screenshots go to ``SEQLAB_DOCS_SCREENSHOTS`` when set, else a temporary folder.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

# Fewest figures each tutorial page shows (tests/docs/test_tutorials.py names them).
TUTORIAL_FIGURES = {
    "01_arima": 5,
    "02_cells": 1,
    "03_bptt": 2,
    "04_imdb": 1,
    "05_forecasting": 6,
}
API_PAGES = ("ts", "nn", "text", "models", "train", "forecast", "sentiment", "plot")


def _find(*names: str) -> str | None:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def browser_binaries() -> tuple[str, str]:
    for module in ("mkdocs", "material", "mkdocstrings", "mkdocs_jupyter", "selenium"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(
                f"the docs requirements are not installed ({module} is missing): "
                ".venv/bin/pip install -r docs/requirements.txt"
            )
    chromium = _find("chromium", "chromium-browser")
    driver = _find("chromedriver")
    if chromium is None or driver is None:
        pytest.skip(
            "headless Chromium is not installed: apt-get install -y chromium chromium-driver"
        )
    return chromium, driver


@pytest.fixture(scope="module")
def site_dir(browser_binaries, tmp_path_factory) -> Path:
    given = os.environ.get("SEQLAB_DOCS_SITE")
    if given:
        site = Path(given).resolve()
        if not (site / "index.html").is_file():
            pytest.fail(f"SEQLAB_DOCS_SITE={given} holds no built site (no index.html)")
        return site
    site = tmp_path_factory.mktemp("site")
    completed = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1", "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, f"mkdocs build --strict failed:\n{completed.stderr[-6000:]}"
    return site


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def base_url(site_dir):
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def driver(browser_binaries):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, chromedriver = browser_binaries
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingOptions", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    browser.set_page_load_timeout(60)
    yield browser
    browser.quit()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    given = os.environ.get("SEQLAB_DOCS_SCREENSHOTS")
    folder = Path(given) if given else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _pages(site: Path) -> list[str]:
    """Every page of the site as a URL path relative to the root ('' for the home page)."""
    pages = []
    for index in sorted(site.rglob("index.html")):
        relative = index.parent.relative_to(site).as_posix()
        pages.append("" if relative == "." else relative + "/")
    return pages


def _open(driver, url: str) -> list[dict]:
    """Load ``url``, wait until it and its images have loaded; return its SEVERE log lines."""
    driver.get_log("browser")  # drop what earlier pages left
    driver.get(url)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done = driver.execute_script(
            "return document.readyState === 'complete' && "
            "Array.from(document.images).every(img => img.complete);"
        )
        if done:
            break
        time.sleep(0.2)
    time.sleep(0.3)  # let late script errors reach the log
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_site_has_every_page(site_dir):
    pages = set(_pages(site_dir))
    expected = {"", "cli/", "performance/"}
    expected |= {f"tutorials/{name}/" for name in TUTORIAL_FIGURES}
    expected |= {f"api/{name}/" for name in API_PAGES}
    assert expected <= pages, f"missing pages: {sorted(expected - pages)}"


def test_console_check_sees_a_failed_request(base_url, driver):
    """The log this test reads does report errors: a missing page is a SEVERE 404."""
    severe = _open(driver, base_url + "no-such-page/")
    assert any("404" in entry["message"] for entry in severe), severe


def test_every_page_loads_without_console_errors(site_dir, base_url, driver):
    failures = {}
    for page in _pages(site_dir):
        severe = _open(driver, base_url + page)
        title = driver.title
        if severe or not title:
            failures[page or "/"] = [e["message"] for e in severe] or ["empty title"]
    assert not failures, f"pages with console errors: {failures}"


@pytest.mark.parametrize("name", sorted(TUTORIAL_FIGURES))
def test_tutorial_figures_render(name, base_url, driver):
    severe = _open(driver, f"{base_url}tutorials/{name}/")
    assert not severe, [e["message"] for e in severe]
    widths = driver.execute_script(
        "return Array.from(document.querySelectorAll('article img'))"
        ".map(img => [img.naturalWidth, img.naturalHeight]);"
    )
    assert len(widths) >= TUTORIAL_FIGURES[name], f"{name}: {len(widths)} figures shown"
    assert all(w > 0 and h > 0 for w, h in widths), f"{name}: figures not rendered {widths}"
    # The page shows the executed outputs, not only the code.
    assert driver.find_elements("css selector", "article .jp-OutputArea-output, article .output")


def test_screenshots(base_url, driver, screenshots):
    import matplotlib.image

    for page, file_name in (("", "home.png"), ("tutorials/02_cells/", "tutorial_02_cells.png")):
        _open(driver, base_url + page)
        # On a tutorial, show its first figure with the text just above it.
        driver.execute_script(
            "const img = document.querySelector('article img');"
            "if (img) { img.scrollIntoView({block: 'center'}); }"
        )
        time.sleep(0.3)
        path = screenshots / file_name
        assert driver.save_screenshot(str(path)), f"no screenshot of /{page}"
        height, width = matplotlib.image.imread(path).shape[:2]
        assert (width, height) >= (800, 600)
        print(f"screenshot: {path}")
