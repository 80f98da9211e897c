"""``masthead check``: settings and templates, checked without building anything."""

from __future__ import annotations

from email.utils import parseaddr
from pathlib import Path

from .config import Publication
from .errors import ConfigError
from .scaffold import EXAMPLE_FILE, PLACEHOLDER_HOSTS, example_titles

TEMPLATE_SUFFIXES = {".html", ".txt", ".xml", ".xsl", ".j2", ".jinja"}


def check_publication(pub: Publication) -> list[Path]:
    """Parse every template of the publication; ConfigError naming file and line at the first fault.

    Settings were already checked when ``pub`` was loaded. Returns the templates read.
    """
    import jinja2.meta

    from .digest.render import make_environment

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


def _placeholder_host(host: str) -> bool:
    """init's default host (example.org) and its reserved kin: no reader can reach them."""
    return host.lower().rstrip(".") in PLACEHOLDER_HOSTS


def placeholders(pub: Publication) -> list[str]:
    """What is still left from ``masthead init`` (or missing) that readers would see: one line each, naming the fix."""
    found = []
    site = pub.site
    if _placeholder_host(site.host):
        found.append(f"feeds/site.toml: base_url is still the placeholder {site.base_url}; "
                     "set the public URL your output/ is served at")
    address = parseaddr(site.email.sender)[1]
    if _placeholder_host(address.rpartition("@")[2]):
        found.append(f"feeds/site.toml: the digest sender {address} is a placeholder; "
                     "set [email] from = \"Name <address@your-domain>\"")
    titles = example_titles()
    for feed in pub.feeds:
        example = feed.folder / EXAMPLE_FILE
        try:
            text = example.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if any(f'title: "{title}"' in text for title in titles):
            found.append(f"{pub.relative(example)} is init's example article; delete it or write your own")
    if pub.digest_feeds and not site.email.postal_address:
        found.append("feeds/site.toml: digests are on but [email] postal_address is empty; bulk-mail rules "
                     "(CAN-SPAM, and the providers that follow them) ask for a postal address in every message")
    return found
