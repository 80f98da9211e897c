"""output/feeds.opml: every feed of the publication, for readers that import a list.

OPML 2.0; split feeds (per language or tag) are nested under the feed they
were cut from. Each outline points at the RSS file and the feed's page.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..config import Publication
from . import pages
from .plan import FeedPlan

PATH = "output/feeds.opml"


def _outline(parent: ET.Element, pub: Publication, plan: FeedPlan, rss_url: str) -> ET.Element:
    attrs = {"type": "rss", "text": plan.title, "title": plan.title,
             "xmlUrl": rss_url, "htmlUrl": pages.home_url(pub.site, plan),
             "language": plan.language, "version": "RSS2"}
    if plan.description:
        attrs["description"] = plan.description
    return ET.SubElement(parent, "outline", attrs)


def render(pub: Publication, plans: tuple[FeedPlan, ...], rss_urls: list[str]) -> bytes:
    """The OPML bytes listing the feeds of ``plans``, whose RSS files are at ``rss_urls`` (in the same order)."""
    root = ET.Element("opml", {"version": "2.0"})
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = pub.site.title
    ET.SubElement(head, "ownerName").text = pub.site.author_name
    body = ET.SubElement(root, "body")
    outlines: dict[str, ET.Element] = {}
    for plan, url in zip(plans, rss_urls, strict=True):
        parent = outlines.get(plan.parent, body) if plan.parent else body
        outlines[plan.name] = _outline(parent, pub, plan, url)
    ET.indent(root, space="  ")
    text = ET.tostring(root, encoding="unicode", xml_declaration=False)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n").encode("utf-8")
