"""The plugin's pages in headless Chromium: what a person sees, with screenshots kept.

Needs the Debian packages: apt-get update && apt-get install -y chromium chromium-driver
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading
import time

import pytest
import uvicorn
from demo_warehouse import build_demo_warehouse

from agency_pulse import config
from agency_pulse.ui import create_app

ARTIFACTS = config.PROJECT_ROOT / "tests" / "artifacts"
INSTALL = "apt-get update && apt-get install -y chromium chromium-driver"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars"]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(f"headless Chromium is not installed; run: {INSTALL}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving_the_app():
    """The UI app of the current AGENCY_PULSE_HOME served by uvicorn on a free loopback
    port, in a thread; yields its base URL and stops it on exit."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def served_app(pulse_home):
    build_demo_warehouse(pulse_home.warehouse)
    with serving_the_app() as url:
        yield url


def _browse(url: str, profile, *, dump_dom: bool = False, screenshot=None) -> str:
    command = [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,1800"]
    command += ["--dump-dom"] if dump_dom else [f"--screenshot={screenshot}"]
    result = subprocess.run([*command, url], capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.browser
def test_leaderboard_and_agency_page_in_chromium(served_app, tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    leaderboard = _browse(f"{served_app}/", tmp_path / "profile-1", dump_dom=True)
    assert "<h1>Leaderboard 2026</h1>" in leaderboard
    first_row = leaderboard[leaderboard.index('id="board-1"'):].split("<tr>")[2]
    assert "Ministry of Culture" in first_row and "28,300" in first_row
    assert "Ministry of Education" in leaderboard and "Growth ranking" in leaderboard
    _browse(f"{served_app}/", tmp_path / "profile-2", screenshot=ARTIFACTS / "ui-leaderboard.png")

    agency = _browse(f"{served_app}/agency/culture", tmp_path / "profile-3", dump_dom=True)
    assert "Ministry of Culture (Mədəniyyət Nazirliyi)" in agency
    assert "followers doubled to nearly 23 thousand" in agency
    assert "opened a new page after the reorganisation" in agency
    assert "@culture.gov.az" in agency and "@culture_az" in agency
    assert agency.count("<svg") == 2
    _browse(f"{served_app}/agency/culture", tmp_path / "profile-4", screenshot=ARTIFACTS / "ui-agency.png")

    for name in ("ui-leaderboard.png", "ui-agency.png"):
        image = (ARTIFACTS / name).read_bytes()
        assert image.startswith(b"\x89PNG") and len(image) > 10_000, name


# Page -> (path, what a reader must see in English, in Azerbaijani).
PAGES_BY_LANGUAGE = {
    "leaderboard": ("/", ("<h1>Leaderboard 2026</h1>", "Ministry of Culture", "28,300"),
                    ("<h1>Reytinq, 2026</h1>", "Mədəniyyət Nazirliyi", "28.300")),
    "agency": ("/agency/culture",
               ("Ranked 1st by followers", "followers doubled to nearly 23 thousand (11,400 → 22,900)"),
               ("İzləyici sayına görə 1-ci yerdədir",
                "izləyici sayı iki dəfə artaraq 23 minə yaxın olub (11.400 → 22.900)")),
    "quality": ("/quality", ("<h1>Data quality</h1>", "Extract log (latest run)"),
                ("<h1>Məlumat keyfiyyəti</h1>", "Toplama jurnalı (son icra)")),
    "report": ("/reports/latest", ("Agency Pulse: annual report 2026", "Methods"),
               ("Agency Pulse: illik hesabat, 2026", "Metodologiya", "oktyabr 2026")),
}
BANNERS = {"en": "Synthetic data: these figures come from the Agency Pulse sandbox",
           "az": "Sintetik məlumatlar: bu rəqəmlər platformalardan deyil"}


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "az"])
@pytest.mark.parametrize("page", list(PAGES_BY_LANGUAGE))
def test_every_page_in_both_languages_in_chromium(served_app, pulse_home, tmp_path, page, language):
    from agency_pulse.report import write_report

    write_report(year=2026, home=pulse_home, language=language)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path, english, azerbaijani = PAGES_BY_LANGUAGE[page]
    url = f"{served_app}{path}?lang={language}"
    dom = _browse(url, tmp_path / "profile-dom", dump_dom=True)
    assert f'<html lang="{language}">' in dom
    assert 'id="synthetic-data"' in dom and BANNERS[language] in dom
    for words in (english if language == "en" else azerbaijani):
        assert words in dom, words
    if page != "report":
        other = "az" if language == "en" else "en"
        assert f'id="language-switch" href="{path}?lang={other}"' in dom
    screenshot = ARTIFACTS / f"{page}-{language}.png"
    screenshot.unlink(missing_ok=True)
    _browse(url, tmp_path / "profile-shot", screenshot=screenshot)
    image = screenshot.read_bytes()
    assert image.startswith(b"\x89PNG") and len(image) > 10_000, screenshot
