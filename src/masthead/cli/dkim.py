"""``masthead dkim keygen``: a DKIM key in the private state, and the DNS record to publish."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from .common import project_option, publication


@click.group()
def dkim() -> None:
    """DKIM signing keys (kept in .masthead/dkim/, never under output/)."""


@dkim.command("keygen")
@project_option
@click.option("--selector", default=None, metavar="NAME",
              help="The DKIM selector (default: mh + this year and month, e.g. mh202605).")
@click.option("--bits", type=click.IntRange(1024, 4096), default=2048, show_default=True,
              help="RSA key size.")
@click.option("--ed25519", "ed25519", is_flag=True,
              help="An Ed25519 key (RFC 8463) instead of RSA: publish an RSA key too, not every receiver checks these.")
def keygen(project: Path, selector: str | None, bits: int, ed25519: bool) -> None:
    """Make a DKIM key and print the DNS TXT record to publish.

    Then set [email] dkim_selector to the selector in feeds/site.toml: every
    digest and confirmation mail is signed from then on.

    Example: masthead dkim keygen --selector mh2026
    """
    from ..send.dkim import Algorithm, aligned, generate_key, key_path, txt_record, txt_value, write_key

    pub = publication(project)
    name = selector or f"mh{date.today():%Y%m}"
    algorithm: Algorithm = "ed25519" if ed25519 else "rsa"
    pem, public = generate_key(algorithm, bits)
    path = key_path(pub.state_dir, name)
    write_key(path, pem)
    domain = pub.site.email.dkim_domain
    click.echo(txt_record(name, domain, txt_value(algorithm, public)))
    click.echo(f"wrote {pub.relative(path)} (owner-only). Publish the record above in DNS, then set "
               f'dkim_selector = "{name}" under [email] in feeds/site.toml.', err=True)
    from_domain = pub.site.email.from_address.rpartition("@")[2]
    if not aligned(domain, from_domain):
        click.echo(f"warning: the signing domain {domain} does not align with the From domain {from_domain}: "
                   "DMARC will not count this signature", err=True)

