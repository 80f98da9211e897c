"""The delivery report: one private HTML page, per feed, of every digest sent and what came back.

For each feed, two charts over its digests (list size and copies sent; bounces,
complaints and unsubscribes) and the table of numbers with the complaint rate
against the 0.3% that Gmail and Yahoo ask bulk senders to stay under. Charts
are inline SVG drawn here: the page loads nothing, runs no script, and is the
same bytes for the same state and ``now``. It names no address, but it is
written with the state (``.masthead/report.html``), never under ``output/``.
"""

from __future__ import annotations

import html
from datetime import date, datetime

from ..config import Publication
from ..i18n import day_label, interface_language, section
from ..state.feedback import DigestNumbers
from ..text import direction_of

COMPLAINT_LIMIT = 0.003          # Gmail and Yahoo, 2024: keep spam complaints under 0.3%
REACH = (("sent", "#6aa84f"), ("recipients", "#0b4f71"))     # the list size drawn last, dashed, over sent
BACK = (("bounced", "#d28a1e"), ("complained", "#c0392b"), ("unsubscribed", "#7f6a93"))
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 720, 230, 52, 16, 14, 34


def render(pub: Publication, numbers: list[DigestNumbers], list_sizes: dict[str, int], *, now: datetime) -> str:
    """The whole page, in the site's language."""
    lang = interface_language(pub.site.language)
    w = section(lang, "report")
    dir_ = direction_of(lang)
    feeds: dict[str, list[DigestNumbers]] = {}
    for n in numbers:
        feeds.setdefault(n.feed, []).append(n)
    blocks = [_feed(pub, name, rows, list_sizes.get(name, 0), lang, w) for name, rows in feeds.items()]
    if not blocks:
        blocks = [f"<p>{html.escape(w['none'])}</p>"]
    title = f"{html.escape(w['title'])} · {html.escape(pub.site.title)}"
    return (f'<!DOCTYPE html>\n<html lang="{lang}" dir="{dir_}"><head><meta charset="utf-8">'
            f'<meta name="robots" content="noindex">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            f"<title>{title}</title><style>{_STYLE}</style></head><body>"
            f"<header><h1>{title}</h1><p class=\"note\">{html.escape(w['made'])} "
            f"{html.escape(day_label(now.date(), lang))} {now:%H:%M} UTC · {html.escape(w['private'])}</p></header>"
            f"{''.join(blocks)}</body></html>\n")


def _feed(pub: Publication, name: str, rows: list[DigestNumbers], size_now: int, lang: str,
          w: dict[str, str]) -> str:
    title = next((f.title for f in pub.feeds if f.name == name), name)
    sent = sum(r.sent for r in rows)
    complained = sum(r.complained for r in rows)
    rate = complained / sent if sent else 0.0
    cards = [(w["subscribers_now"], f"{size_now:,}"), (w["issues"], f"{len(rows):,}"), (w["sent"], f"{sent:,}"),
             (w["bounced"], _percent(sum(r.bounced for r in rows), sent)),
             (w["complaint_rate"], _percent(complained, sent))]
    alarm = {w["complaint_rate"]} if rate >= COMPLAINT_LIMIT else set()
    card_html = "".join(f'<div class="card{" alarm" if label in alarm else ""}">'
                        f"<span>{html.escape(label)}</span><strong>{html.escape(value)}</strong></div>"
                        for label, value in cards)
    labels = [_short(r, lang) for r in rows]
    dir_ = direction_of(lang)
    reach = _chart(w["chart_reach"], labels, [(w[k], c, [getattr(r, k) for r in rows]) for k, c in REACH], dir_)
    back = _chart(w["chart_back"], labels, [(w[k], c, [getattr(r, k) for r in rows]) for k, c in BACK], dir_)
    head = "".join(f"<th>{html.escape(w[k])}</th>"
                   for k in ("issue", "recipients", "sent", "bounced", "complained", "unsubscribed", "complaint_rate"))
    body = "".join(
        f"<tr><td>{html.escape(_day(r, lang))}</td><td>{r.recipients:,}</td><td>{r.sent:,}</td><td>{r.bounced:,}</td>"
        f"<td>{r.complained:,}</td><td>{r.unsubscribed:,}</td>"
        f'<td class="{"alarm" if r.sent and r.complained / r.sent >= COMPLAINT_LIMIT else ""}">'
        f"{_percent(r.complained, r.sent)}</td></tr>" for r in reversed(rows))
    return (f'<section><h2><bdi>{html.escape(title)}</bdi></h2><div class="cards">{card_html}</div>'
            f'<p class="note">{html.escape(w["threshold"])}</p>{reach}{back}'
            f'<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></section>')


def _day(row: DigestNumbers, lang: str) -> str:
    first = _first_day(row)
    return day_label(first, lang) if first else row.digest_id


def _short(row: DigestNumbers, lang: str) -> str:
    first = _first_day(row)
    return day_label(first, lang, year=False) if first else row.digest_id.rsplit("/", 1)[-1]


def _first_day(row: DigestNumbers) -> date | None:
    try:
        return date.fromisoformat(row.digest_id.rsplit("/", 1)[-1])
    except ValueError:
        return None


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f}%" if whole else "–"


def _nice(top: int) -> int:
    """A round upper bound for an axis: 1, 2, 5 times a power of ten."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if top <= step * m:
                return step * m
        step *= 10


def _chart(title: str, labels: list[str], series: list[tuple[str, str, list[int]]], dir_: str) -> str:
    """A line chart (dots and lines, one per series) as inline SVG, time running left to right.

    Labels are written in the page's direction; the first and last are kept inside the frame.
    """
    top = _nice(max([1, *(v for _, _, values in series for v in values)]))
    steps = next(n for n in (5, 4, 2, 1) if top % n == 0)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    count = len(labels)

    def x(i: int) -> float:
        return LEFT + (inner_w / 2 if count == 1 else inner_w * i / (count - 1))

    def y(v: int) -> float:
        return TOP + inner_h * (1 - v / top)

    parts = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{html.escape(title)}" direction="ltr">']
    for tick in range(steps + 1):
        value = top * tick // steps
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" class="grid"/>'
                     f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:,}</text>')
    every = max(1, (count + 7) // 8)
    left, right = ("end", "start") if dir_ == "rtl" else ("start", "end")   # text-anchor follows direction
    for i, label in enumerate(labels):
        if i % every == 0 or i == count - 1:
            anchor = "middle" if count == 1 else left if i == 0 else right if i == count - 1 else "middle"
            parts.append(f'<text x="{x(i):.1f}" y="{HEIGHT - 12}" text-anchor="{anchor}" direction="{dir_}">'
                         f"{html.escape(label)}</text>")
    for number, (_, colour, values) in enumerate(series):
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        dash = ' stroke-dasharray="7 5"' if number and len(series) == 2 else ""
        if count > 1:
            parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"{dash}/>')
        parts += [f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3.5" fill="{colour}"><title>{v:,}</title></circle>'
                  for i, v in enumerate(values)]
    parts.append("</svg>")
    legend = "".join(f'<span><i style="background:{colour}"></i>{html.escape(name)}</span>'
                     for name, colour, _ in series)
    return (f'<figure><figcaption>{html.escape(title)}</figcaption>{"".join(parts)}'
            f'<div class="legend">{legend}</div></figure>')


_STYLE = (
    "body{font-family:system-ui,'Segoe UI',Tahoma,'Geeza Pro','Noto Sans Arabic',sans-serif;margin:0 auto;"
    "max-width:960px;padding:24px;color:#1d2733;background:#f6f8fa}"
    "h1{font-size:26px;margin:0 0 4px;color:#0b4f71}h2{font-size:21px;margin:0 0 12px}"
    "section{background:#fff;border:1px solid #dde3e8;border-radius:8px;padding:20px;margin:20px 0}"
    ".note{color:#5b6673;font-size:13px;margin:4px 0 12px}"
    ".cards{display:flex;flex-wrap:wrap;gap:12px}.card{flex:1 1 120px;background:#eef1f4;border-radius:6px;"
    "padding:10px 12px}.card span{display:block;font-size:12px;color:#5b6673}.card strong{font-size:22px}"
    ".card.alarm{background:#fbe4e1}.card.alarm strong,td.alarm{color:#c0392b;font-weight:bold}"
    "figure{margin:18px 0}figcaption{font-weight:bold;margin-bottom:6px}svg{width:100%;height:auto}"
    "svg text{font-size:11px;fill:#5b6673}svg .grid{stroke:#e3e8ec;stroke-width:1}"
    ".legend{display:flex;gap:16px;font-size:13px;color:#3d4a57;flex-wrap:wrap}"
    ".legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-inline-end:6px;vertical-align:-1px}"
    "table{border-collapse:collapse;width:100%;font-size:14px;font-variant-numeric:tabular-nums}"
    "th,td{padding:6px 8px;border-bottom:1px solid #e3e8ec;text-align:start}th{color:#5b6673;font-weight:normal}"
)
