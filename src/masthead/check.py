"""``masthead check``: settings and templates, checked without building anything."""

from __future__ import annotations

from pathlib import Path

import jinja2
import jinja2.meta

from .config import Publication
from .digest.render import make_environment
from .errors import ConfigError

TEMPLATE_SUFFIXES = {".html", ".txt", ".xml", ".xsl", ".j2", ".jinja"}


def check_publication(pub: Publication) -> list[Path]:
    """Parse every template of the publication; ConfigError naming file and line at the first fault.

    Settings were already checked when ``pub`` was loaded. Returns the templates read.
    """
    env = make_environment(pub)  # the publication's templates first, the packaged ones second
    checked: list[Path] = []
    if pub.templates_dir.is_dir():
        for path in sorted(pub.templates_dir.rglob("*")):
            if path.suffix not in TEMPLATE_SUFFIXES or not path.is_file():
                continue
            where = pub.relative(path)
            try:
                tree = env.parse(path.read_text(encoding="utf-8"), name=where, filename=where)
                for name in jinja2.meta.find_referenced_templates(tree):
                    if name is not None and name not in env.list_templates():
                        raise ConfigError(f"refers to template {name!r}, which does not exist",
                                          where=where, hint="restore that template or fix the name")
            except UnicodeDecodeError:
                raise ConfigError("not UTF-8 text", where=where, hint="save the template as UTF-8") from None
            except jinja2.TemplateSyntaxError as exc:
                raise ConfigError(f"template syntax error: {exc.message}", where=f"{where}:{exc.lineno}",
                                  hint="fix the jinja2 syntax at that line") from None
            checked.append(path)
    for feed in pub.feeds:
        where = f"feeds/{feed.name}/feed.toml"
        try:
            env.parse(feed.digest.subject)
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(f"key 'digest.subject' is not a valid template: {exc.message}",
                              where=where, hint="fix the {{ }} expressions in the subject") from None
    return checked


def mail_warnings(pub: Publication, key_file: Path | None = None) -> list[str]:
    """What would make mailbox providers trust the mail less: no DKIM, or domains that do not align.

    ConfigError when a DKIM selector is set but its key cannot be used (sending would stop there too).
    """
    from .send.dkim import aligned, load_key

    email = pub.site.email
    from_domain = email.from_address.rpartition("@")[2].lower()
    warnings = []
    key = load_key(pub, key_file)
    if key is None:
        warnings.append("digests and confirmation mails are not DKIM-signed: run 'masthead dkim keygen', publish "
                        "the record it prints and set [email] dkim_selector (Gmail and Yahoo require DKIM)")
    elif not aligned(key.domain, from_domain):
        warnings.append(f"the DKIM domain {key.domain} does not align with the From domain {from_domain}: DMARC "
                        f"ignores such a signature; set [email] dkim_domain to {from_domain} (or a parent of it)")
    return_domain = email.return_path.rpartition("@")[2].lower()
    if not aligned(return_domain, from_domain):
        warnings.append(f"the return path's domain {return_domain} does not align with the From domain "
                        f"{from_domain}: SPF cannot pass DMARC for it")
    return warnings
