"""``masthead init``: a new publication that builds at once.

It writes site.toml, one feed with an example article, a copy of the default
templates to adapt, and a .gitignore that keeps state and output out of git.
"""

from __future__ import annotations

import re
import shutil
from datetime import date
from importlib.resources import files
from pathlib import Path

from .errors import ConfigError
from .text import direction_of

GITIGNORE = """\
# masthead: the state (subscribers, secrets, send records) is private;
# output/ is built by `masthead run` and published from the build machine.
.masthead/
output/
"""

SITE = """\
# Site-wide settings. The README's "Settings" section lists every key.
title = "{title}"
description = ""
base_url = "{base_url}"
language = "{language}"
timezone = "{timezone}"

[author]
name = "{title}"

[email]
# from = "{title} <newsletter@example.org>"
# postal_address = "Street, City"  (shown in every digest's footer)
"""

FEED = """\
title = "{feed_title}"
description = ""
limit = 50

[digest]
cadence = "daily"      # daily, weekly or off
subject = "{{{{ feed.title }}}}: {{{{ period_label }}}}"
"""

EXAMPLE_FILE = "welcome.md"
PLACEHOLDER_HOSTS = ("example.org", "example.com", "example.net")   # init's --base-url default and its kin
EXAMPLES = {
    "rtl": ("مرحبا", """\
---
title: "أول مقال في النشرة"
date: {today}
source: "{title}"
---

هذا مقال تجريبي. احذفه وضع مقالاتك في هذا المجلد: نصوص عادية، أو Markdown مع بيانات وصفية، أو JSON.
"""),
    "ltr": ("News", """\
---
title: "Our first article"
date: {today}
source: "{title}"
---

This is an example article. Delete it and put your articles in this folder:
plain text, Markdown with front matter, or JSON records.
"""),
}


def init_publication(root: Path, *, title: str, base_url: str, language: str,
                     timezone: str, today: date) -> list[Path]:
    """Create a publication in ``root`` (empty or missing); returns the files written."""
    if root.exists() and any(root.iterdir()):
        raise ConfigError(f"{root} is not empty", hint="choose a new folder name")
    direction = direction_of(language)
    feed_title, example = EXAMPLES[direction]
    values = dict(title=title.replace('"', "'"), base_url=base_url, language=language,
                  timezone=timezone, feed_title=feed_title, today=today.isoformat())
    written = {
        root / ".gitignore": GITIGNORE,
        root / "feeds" / "site.toml": SITE.format(**values),
        root / "feeds" / "news" / "feed.toml": FEED.format(**values),
        root / "feeds" / "news" / EXAMPLE_FILE: example.format(**values),
    }
    for path, content in written.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    templates = root / "templates"
    templates.mkdir(parents=True, exist_ok=True)
    copied = _copy_tree(files("masthead") / "templates", templates)
    (root / "output").mkdir(exist_ok=True)
    return sorted(written) + copied


def example_titles() -> set[str]:
    """The titles of init's example articles: an article still carrying one is the example, unedited."""
    found = (re.search(r'^title: "(.*)"$', text, re.MULTILINE) for _, text in EXAMPLES.values())
    return {match.group(1) for match in found if match}


def _copy_tree(source, target: Path) -> list[Path]:
    copied = []
    for item in source.iterdir():
        if item.name.startswith((".", "__")):
            continue
        if item.is_dir():
            copied += _copy_tree(item, target / item.name)
        else:
            target.mkdir(parents=True, exist_ok=True)
            with item.open("rb") as src, (target / item.name).open("wb") as dst:
                shutil.copyfileobj(src, dst)
            copied.append(target / item.name)
    return copied
