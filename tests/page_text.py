"""What a reader sees of an HTML page, for the report and UI tests."""

from __future__ import annotations

from html.parser import HTMLParser


def visible_text(html: str) -> str:
    """The visible text of an HTML page (no style, title or SVG text), entities decoded,
    whitespace collapsed."""
    chunks: list[str] = []

    class Collect(HTMLParser):
        skip = 0

        def handle_starttag(self, tag, attrs):
            self.skip += tag in ("style", "title", "svg")

        def handle_endtag(self, tag):
            self.skip -= tag in ("style", "title", "svg")

        def handle_data(self, data):
            if not self.skip:
                chunks.append(data)

    Collect().feed(html)
    return " ".join(" ".join(chunks).split())
