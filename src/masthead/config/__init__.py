"""A publication's settings: feeds/site.toml and feeds/<name>/feed.toml, and the environment's.

Settings become frozen records (settings.py). Every mistake is a ConfigError
that names the file, the key and what is expected (toml.py), so a command can
exit 2 with one clear line and no traceback. The mail server, the signing
key and the state database come from the environment (environment.py), read
only by entry points.

Imports: errors and text only.
"""

from .environment import (
    DATABASE_ENV,
    DKIM_ENV,
    IMAP_PASSWORD_ENV,
    MAILGUN_ENV,
    SECRET_ENV,
    SMTP_ENV,
    DkimKey,
    Environment,
    Security,
    SmtpSettings,
    parse_database_url,
    parse_smtp_url,
    read_environment,
    shared_secret,
)
from .settings import (
    CADENCES,
    FEED_FILE,
    SITE_FILE,
    SPLITS,
    WEEKDAYS,
    DigestSettings,
    EmailSettings,
    FeedSettings,
    FetchSettings,
    Publication,
    ServeSettings,
    SignupLimits,
    SiteSettings,
    find_publication,
    load_feed,
    load_publication,
    load_site,
)

__all__ = [
    "CADENCES", "DATABASE_ENV", "DKIM_ENV", "FEED_FILE", "IMAP_PASSWORD_ENV", "MAILGUN_ENV", "SECRET_ENV",
    "SITE_FILE", "SMTP_ENV", "SPLITS", "WEEKDAYS", "DigestSettings", "DkimKey", "EmailSettings", "Environment",
    "FeedSettings", "FetchSettings", "Publication", "Security", "ServeSettings", "SignupLimits", "SiteSettings",
    "SmtpSettings", "find_publication", "load_feed", "load_publication", "load_site", "parse_database_url",
    "parse_smtp_url", "read_environment", "shared_secret",
]
