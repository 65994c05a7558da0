"""The report and each UI page in headless Chromium, measured in the page itself.

Chromium is driven over its DevTools protocol (loopback only): the pages carry no
script and forbid any (Content-Security-Policy), so the measurements run as DevTools
evaluations, which a page's policy does not govern. For every chart: each drawn element's
bounding box (getBBox, mapped into the SVG's own coordinates) lies inside its viewBox.
The synthetic-data banner is on every page; an account first counted during the period is
a marked point, and no line of its agency rises to it. Screenshots go to tests/artifacts/.

`LANGUAGES` lists the languages the pages are checked in: a language is a `?lang=` on
the UI pages and `language=` of the report; `BANNER` holds what each must say.

Needs the Debian packages: apt-get update && apt-get install -y chromium chromium-driver
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
from itertools import count

import httpx
import pytest
from demo_warehouse import build_demo_warehouse
from test_ui_browser import ARTIFACTS, CHROMIUM_FLAGS, _chromium, _free_port, serving_the_app

from agency_pulse.report import write_report
from agency_pulse.report.writer import report_stem

LANGUAGES = ["en", "az"]
BANNER = {"en": "Synthetic data", "az": "Sintetik məlumatlar"}
PAGES = {"leaderboard": "/", "agency": "/agency/culture", "quality": "/quality",
         "report": "/reports/{stem}.html"}
# What each page's charts are titled (their aria-label), and the legend entry of a first
# count, as a reader of each language must see them.
CHART_TITLES = {
    "en": {"leaderboard": ["Follower growth 2026 (pages counted at both ends)"],
           "agency": ["Followers by account, month by month", "Posts per month"],
           "quality": [],
           "report": ["Followers by agency, month by month (lines join pages counted at both ends)",
                      "Posts per month, all agencies",
                      "Follower growth ranking (pages counted at both ends)"]},
    "az": {"leaderboard": ["İzləyici artımı, 2026 (hər iki tarixdə sayılan səhifələr)"],
           "agency": ["Hesabların izləyici sayı, aylar üzrə", "Aylıq paylaşımlar"],
           "quality": [],
           "report": ["Qurumların izləyici sayı, aylar üzrə (xətlər yalnız hər iki tarixdə sayılan "
                      "səhifələri birləşdirir)",
                      "Aylıq paylaşımlar, bütün qurumlar",
                      "İzləyici artımı reytinqi (hər iki tarixdə sayılan səhifələr)"]},
}
FIRST_COUNTED = {"en": "account first counted (not growth)", "az": "hesab ilk dəfə sayılıb (artım deyil)"}

# Every rendered element of every chart, its bounding box in the root SVG's user space
# (the viewBox's coordinates), compared with the viewBox. Elements inside <defs> (marker
# shapes, glyph outlines, clip paths, patterns) are templates, not drawn where they stand.
MEASURE = r"""
(() => {
  const charts = [...document.querySelectorAll('svg.chart')];
  return charts.map((svg, index) => {
    const vb = svg.viewBox.baseVal;
    const toRoot = svg.getScreenCTM().inverse();
    const outside = [];
    let measured = 0;
    for (const el of svg.querySelectorAll('path, use, text, rect, line, polyline, polygon, circle')) {
      if (el.closest('defs, clipPath, pattern, marker, title')) continue;
      const box = el.getBBox();
      if (box.width === 0 && box.height === 0) continue;
      const m = toRoot.multiply(el.getScreenCTM());
      const corners = [[box.x, box.y], [box.x + box.width, box.y],
                       [box.x, box.y + box.height], [box.x + box.width, box.y + box.height]]
        .map(([x, y]) => new DOMPoint(x, y).matrixTransform(m));
      const xs = corners.map(p => p.x), ys = corners.map(p => p.y);
      const slack = 0.5;
      measured += 1;
      if (Math.min(...xs) < vb.x - slack || Math.max(...xs) > vb.x + vb.width + slack ||
          Math.min(...ys) < vb.y - slack || Math.max(...ys) > vb.y + vb.height + slack) {
        outside.push({tag: el.tagName, id: el.id || (el.parentElement && el.parentElement.id),
                      box: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)]});
      }
    }
    const firsts = [...svg.querySelectorAll('g[id^="first-count-"]')].map(g => {
      const r = g.getBoundingClientRect();
      return {id: g.id, x: r.x + r.width / 2, y: r.y + r.height / 2};
    });
    const steps = [...svg.querySelectorAll('g[id^="step-"] path')].map(p => {
      const ctm = p.getScreenCTM();
      const end = p.getPointAtLength(p.getTotalLength());
      const start = p.getPointAtLength(0);
      const a = new DOMPoint(start.x, start.y).matrixTransform(ctm);
      const b = new DOMPoint(end.x, end.y).matrixTransform(ctm);
      return {id: p.parentElement.id, x0: a.x, y0: a.y, x1: b.x, y1: b.y};
    });
    // text is drawn as glyph paths; matplotlib names each text group in a comment
    const walker = document.createTreeWalker(svg, NodeFilter.SHOW_COMMENT);
    const words = [];
    while (walker.nextNode()) words.push(walker.currentNode.nodeValue.trim());
    return {index, label: svg.getAttribute('aria-label'), viewBox: [vb.x, vb.y, vb.width, vb.height],
            measured, outside, firsts, steps, words};
  });
})()
"""
TEXT = "document.body.innerText"


class DevTools:
    """One headless Chromium page driven over the DevTools protocol."""

    def __init__(self, profile):
        from websockets.sync.client import connect

        port = _free_port()
        self.process = subprocess.Popen(
            [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,1800",
             f"--remote-debugging-port={port}", "--remote-allow-origins=*", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=2).json()
                page = next(t for t in targets if t.get("type") == "page")
                break
            except (httpx.HTTPError, StopIteration, ValueError):
                assert time.monotonic() < deadline, "Chromium's DevTools did not answer"
                time.sleep(0.2)
        self.socket = connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=30)
        self.ids = count(1)
        self.call("Page.enable")

    def call(self, method: str, **params) -> dict:
        ident = next(self.ids)
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=90))
            if message.get("id") == ident:
                assert "error" not in message, message
                return message.get("result", {})

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + 60
        while self.evaluate("document.readyState") != "complete":
            assert time.monotonic() < deadline, f"{url} did not load"
            time.sleep(0.1)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def screenshot(self, path) -> None:
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def served(pulse_home):
    build_demo_warehouse(pulse_home.warehouse)
    for lang in LANGUAGES:
        write_report(year=2026, language=lang)
    with serving_the_app() as url:
        yield url


@pytest.fixture
def browser(tmp_path):
    devtools = DevTools(tmp_path / "profile")
    yield devtools
    devtools.close()


def _url(base: str, page: str, lang: str) -> str:
    if page == "report":  # a file per language: annual-2026.html, annual-2026.az.html
        return base + PAGES[page].format(stem=report_stem("annual-2026", lang))
    path = PAGES[page]
    return base + path + (f"{'&' if '?' in path else '?'}lang={lang}" if lang != "en" else "")


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_in_chromium_banner_frames_and_first_counts(served, browser, page, lang):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.open(_url(served, page, lang))
    text = browser.evaluate(TEXT)
    assert BANNER[lang] in text.split("\n")[0], text[:200]   # the first thing a reader sees
    measured = browser.evaluate(MEASURE)
    expected_charts = {"leaderboard": 1, "agency": 2, "quality": 0, "report": 3}[page]
    assert len(measured) == expected_charts
    assert [chart["label"] for chart in measured] == CHART_TITLES[lang][page]
    for chart in measured:
        assert chart["measured"] > 20, chart["label"]       # the check saw the drawing
        assert chart["outside"] == [], (chart["label"], chart["viewBox"], chart["outside"][:5])
    shot = ARTIFACTS / f"browser-{page}-{lang}.png"
    browser.screenshot(shot)
    image = shot.read_bytes()
    assert image.startswith(b"\x89PNG") and len(image) > 10_000

    if page in ("agency", "report"):
        # culture's Instagram page, first counted in March 2026, is a marked point
        followers = next(c for c in measured if c["firsts"])
        assert followers["index"] == 0
        assert FIRST_COUNTED[lang] in followers["words"]     # its legend entry, in the language
    if page == "report":
        # ... and no line of its agency rises to that point: the step into the month
        # joins only the Facebook page, counted at both ends, and ends below the mark
        [first] = followers["firsts"]
        agency, month = re.fullmatch(r"first-count-(\d+)-(\d+)", first["id"]).groups()
        step = next(s for s in followers["steps"] if s["id"] == f"step-{agency}-{month}")
        assert abs(step["x1"] - first["x"]) < 1.5            # the same month ...
        assert step["y1"] - first["y"] > 10                  # ... well below the mark (SVG y grows down)
        assert abs(step["y1"] - step["y0"]) < abs(step["y1"] - first["y"])
