"""HTML (self-contained: inline CSS and SVG, UTF-8, no script, no network) and Markdown."""

from __future__ import annotations

import re
from html import escape

from agency_pulse.i18n import translator
from agency_pulse.report.document import HEADINGS, ReportDocument
from agency_pulse.report.numbers import ENGLISH, NumberStyle

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans",Arial,sans-serif;margin:2rem auto;
max-width:60rem;padding:0 1rem;color:#1d1d1f;line-height:1.5}
h1{font-size:1.8rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.9rem}
th,td{padding:.25rem .6rem;border-bottom:1px solid #eee;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.chart{width:100%;max-width:720px;height:auto;margin:1rem 0}
.coverage li{margin:.2rem 0}.note{color:#555;font-size:.9rem}
.synthetic{background:#fff3cd;border:2px solid #b26a00;color:#5c3700;padding:.7rem 1rem;
font-weight:600;margin:0 0 1rem}
"""
NUMERIC_KINDS = {"rank", "count", "change", "pct", "rate"}


def render_html(document: ReportDocument, style: NumberStyle = ENGLISH, lang: str | None = None) -> str:
    """The page in the document's language (`lang` overrides the html element's)."""
    heading = _headings(document)
    out = [f'<!DOCTYPE html>\n<html lang="{escape(lang or document.language)}">\n<head>\n<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{escape(document.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
           *([f'<p class="synthetic" id="synthetic-data" role="alert">{escape(document.notice)}</p>']
             if document.notice else []),
           f"<h1>{escape(document.title)}</h1>",
           f'<p class="note">{escape(document.rules_note)}</p>',
           f"<h2>{escape(heading['coverage'])}</h2>", '<ul class="coverage">',
           *[f"<li>{escape(note)}</li>" for note in document.coverage], "</ul>",
           f"<h2>{escape(heading['leaderboards'])}</h2>"]
    for board in document.leaderboards:
        out.append(f"<h3>{escape(board.title)}</h3>")
        out.append(html_table([c for c, _ in board.columns], board.formatted_rows(style),
                              [k in NUMERIC_KINDS for _, k in board.columns]))
    out.append(f"<h2>{escape(heading['charts'])}</h2>")
    out += [f'<figure>{chart.svg}</figure>' for chart in document.charts]
    out.append(f"<h2>{escape(heading['agencies'])}</h2>")
    for section in document.agencies:
        out.append(f'<h3 id="agency-{escape(section.agency_id)}">{escape(section.heading)}</h3>')
        out.append(f"<p>{escape(section.paragraph)}</p>")
    out.append(f'<h2 id="methods">{escape(heading["methods"])}</h2>')
    out += [f"<p>{escape(rule)}</p>" for rule in document.methods]
    out.append("</body>\n</html>\n")
    return "\n".join(out)


def _headings(document: ReportDocument) -> dict[str, str]:
    """The section headings in the document's language."""
    text = translator(document.language)
    return {name: document.headings.get(name) or text.text(f"report.heading.{name}") for name in HEADINGS}


def html_table(columns: list[str], rows: list[list[str]], numeric: list[bool] | None = None) -> str:
    """A table with every cell escaped; numeric columns right-aligned."""
    numeric = numeric or [False] * len(columns)
    head = "".join(f'<th{" class=num" if n else ""}>{escape(c)}</th>' for c, n in zip(columns, numeric, strict=True))
    body = "".join(
        "<tr>" + "".join(f'<td{" class=num" if n else ""}>{escape(str(v))}</td>'
                         for v, n in zip(row, numeric, strict=True)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_markdown(document: ReportDocument, chart_links: dict[str, str],
                    style: NumberStyle = ENGLISH) -> str:
    """The same content; charts as links to SVG files written beside the Markdown."""
    heading = _headings(document)
    out = [f"> **{md(document.notice)}**", ""] if document.notice else []
    out += [f"# {md(document.title)}", "", f"_{md(document.rules_note)}_", "",
            f"## {md(heading['coverage'])}", ""]
    out += [f"- {md(note)}" for note in document.coverage]
    out += ["", f"## {md(heading['leaderboards'])}", ""]
    for board in document.leaderboards:
        out += [f"### {md(board.title)}", "", md_table([c for c, _ in board.columns],
                                                        board.formatted_rows(style)), ""]
    out += [f"## {md(heading['charts'])}", ""]
    out += [f"![{md(chart.title)}]({chart_links[chart.name]})" for chart in document.charts]
    out += ["", f"## {md(heading['agencies'])}", ""]
    for section in document.agencies:
        out += [f"### {md(section.heading)}", "", md(section.paragraph), ""]
    out += [f"## {md(heading['methods'])}", ""]
    for rule in document.methods:
        out += [md(rule), ""]
    return "\n".join(out) + "\n"


def md_table(columns: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(md(c) for c in columns) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(md(str(v)) for v in row) + " |" for row in rows]
    return "\n".join(lines)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def md(text: str) -> str:
    """Markdown text that renders literally: HTML escaped, Markdown punctuation backslashed."""
    return _MD_SPECIAL.sub(r"\\\1", escape(text, quote=False)).replace("\n", " ")
