"""DKIM (RFC 6376; Ed25519 keys per RFC 8463): the key, its DNS record, and signing wire bytes.

``generate_key`` makes a key pair with ``cryptography``; ``write_key`` keeps the
private half in the private state (``.masthead/dkim/<selector>.pem``, mode
0600), and ``txt_record`` gives the record to publish. ``load_key`` reads the
key named by ``[email] dkim_selector`` (or the file a deployment names in
``MASTHEAD_DKIM_KEY_FILE``, which the entry points read and pass in).
``sign`` prepends a DKIM-Signature made by dkimpy to the exact bytes that go
to the server: relaxed/relaxed, and ``h=`` listing the headers mailbox
providers care about, the important ones twice so that none can be added.
"""

from __future__ import annotations

import base64
import functools
import os
from pathlib import Path
from typing import Any, Literal

from ..config import DkimKey, Publication
from ..errors import ConfigError

KEY_FOLDER = "dkim"
Algorithm = Literal["rsa", "ed25519"]
# Signed when present, and signed as absent otherwise (so they cannot be added on the way).
SIGNED = ("From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe",
          "List-Unsubscribe-Post", "MIME-Version", "Content-Type")
SIGNED_IF_PRESENT = ("Reply-To", "Feedback-ID", "Content-Language", "Content-Transfer-Encoding",
                     "Auto-Submitted", "Precedence")
OVERSIGNED = ("From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post")


def key_path(state_dir: Path, selector: str) -> Path:
    return state_dir / KEY_FOLDER / f"{selector}.pem"


def generate_key(algorithm: Algorithm = "rsa", bits: int = 2048) -> tuple[bytes, str]:
    """A new private key (PKCS#8 PEM) and the ``p=`` value of its public half."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    if algorithm == "ed25519":
        ed_key = ed25519.Ed25519PrivateKey.generate()
        pem = ed_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
        public = ed_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return pem, base64.b64encode(public).decode("ascii")
    if bits < 1024 or bits > 4096:
        raise ConfigError(f"an RSA DKIM key of {bits} bits is not accepted by mailbox providers",
                          hint="use --bits 2048 (1024 is the least receivers verify, 4096 the most)")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = rsa_key.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, base64.b64encode(public).decode("ascii")


def write_key(path: Path, pem: bytes) -> None:
    """Keep the private key owner-only; an existing key is never overwritten."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"a DKIM key for this selector exists already: {path}",
                          hint="choose another --selector (a new selector is how keys are rotated)") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())


def txt_value(algorithm: Algorithm, public: str) -> str:
    return f"v=DKIM1; k={algorithm}; p={public}"


def txt_record(selector: str, domain: str, value: str) -> str:
    """``sel._domainkey.domain TXT "..."``, cut into strings of at most 255 characters as DNS requires."""
    chunks = [value[i:i + 255] for i in range(0, len(value), 255)]
    return f'{selector}._domainkey.{domain} TXT ' + " ".join(f'"{chunk}"' for chunk in chunks)


def public_value(pem: bytes) -> tuple[Algorithm, str]:
    """The algorithm and ``p=`` value of a private key's public half."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    key = serialization.load_pem_private_key(pem, password=None)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return "ed25519", base64.b64encode(raw).decode("ascii")
    if isinstance(key, rsa.RSAPrivateKey):
        der = key.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        return "rsa", base64.b64encode(der).decode("ascii")
    raise ValueError("not an RSA or Ed25519 key")


def load_key(pub: Publication, key_file: Path | None = None) -> DkimKey | None:
    """The key mail is signed with, or None when ``[email] dkim_selector`` is not set.

    ``key_file`` (from ``MASTHEAD_DKIM_KEY_FILE``) replaces the state folder's
    key. ConfigError when the key is missing or not an RSA/Ed25519 PEM key.
    """
    email = pub.site.email
    if email.dkim_selector is None:
        if key_file is not None:
            raise ConfigError("a DKIM key file is given but no selector is set",
                              where="feeds/site.toml: email.dkim_selector",
                              hint="set dkim_selector to the selector whose TXT record you published")
        return None
    path = key_file or key_path(pub.state_dir, email.dkim_selector)
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the DKIM key: {exc.strerror or exc}", where=str(path),
                          hint=f"run 'masthead dkim keygen --selector {email.dkim_selector}' and publish the "
                               "record it prints, or point MASTHEAD_DKIM_KEY_FILE at your key") from None
    return key_from_pem(pem, domain=email.dkim_domain, selector=email.dkim_selector, where=str(path))


def key_from_pem(pem: bytes, *, domain: str, selector: str, where: str) -> DkimKey:
    """A DkimKey from a PEM private key (RSA, PKCS#1 or PKCS#8; or Ed25519, PKCS#8)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"not a usable DKIM private key ({exc})", where=where,
                          hint="give an unencrypted PEM RSA or Ed25519 key, as 'masthead dkim keygen' makes") from None
    if isinstance(key, ed25519.Ed25519PrivateKey):   # dkimpy takes the raw 32-byte seed, base64
        seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                 serialization.NoEncryption())
        return DkimKey(domain, selector, "ed25519-sha256", base64.b64encode(seed))
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 1024:
            raise ConfigError(f"the DKIM key has {key.key_size} bits; receivers ignore keys under 1024",
                              where=where, hint="make a new one with 'masthead dkim keygen --bits 2048'")
        return DkimKey(domain, selector, "rsa-sha256", pem)
    raise ConfigError("the DKIM key is neither RSA nor Ed25519", where=where,
                      hint="make one with 'masthead dkim keygen'")


def sign(data: bytes, key: DkimKey) -> bytes:
    """``data`` (a message in CRLF lines) with a DKIM-Signature header in front."""
    present = {line.split(b":", 1)[0].strip().lower()
               for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n") if line[:1] not in (b" ", b"\t")}
    headers = [*SIGNED, *(h for h in SIGNED_IF_PRESENT if h.lower().encode() in present), *OVERSIGNED]
    signer = _signer_class()(data, key)
    signature: bytes = signer.sign(key.selector.encode("ascii"), key.domain.encode("ascii"), key.private_key,
                                   signature_algorithm=key.algorithm.encode("ascii"),
                                   canonicalize=(b"relaxed", b"relaxed"),
                                   include_headers=[h.lower().encode("ascii") for h in headers])
    return signature + data


@functools.cache
def _signer_class() -> type:
    """dkimpy's signer, with its RSA arithmetic done by OpenSSL.

    dkimpy canonicalises, hashes and writes the header (all of DKIM that is
    DKIM), but computes RSA in Python: about 16 times the cost of the same
    signature in OpenSSL (bench/signing.py), a ceiling of a few dozen
    messages a second. Here the digest dkimpy made is signed by
    ``cryptography`` instead (RSASSA-PKCS1-v1_5 over the same SHA-256 digest:
    the same bytes). dkimpy hands a digest to a key object with ``sign()``
    only on its Ed25519 path, so the RSA case goes through that path with an
    OpenSSL key; the header it writes still says rsa-sha256. The tests verify
    every kind of signature with dkimpy's own verifier.
    """
    import dkim
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

    class OpenSslRsa:
        def __init__(self, pem: bytes):
            key = _openssl_key(pem)        # loading checks the key: far slower than signing, so once
            assert isinstance(key, rsa.RSAPrivateKey)
            self.key = key

        def sign(self, digest: bytes) -> Any:
            signature = self.key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
            return type("Signed", (), {"signature": signature})

    class Signer(dkim.DKIM):
        def __init__(self, data: bytes, key: DkimKey):
            super().__init__(data, linesep=b"\r\n")
            self.signature_algorithm: bytes = key.algorithm.encode("ascii")
            self.openssl = OpenSslRsa(key.private_key) if key.algorithm == "rsa-sha256" else None

        def gen_header(self, fields: Any, include_headers: Any, canon_policy: Any, header_name: bytes, pk: Any,
                       standardize: bool = False) -> bytes:
            if self.openssl is None or self.signature_algorithm != b"rsa-sha256":
                return bytes(super().gen_header(fields, include_headers, canon_policy, header_name, pk, standardize))
            self.signature_algorithm = b"ed25519-sha256"      # the path that calls pk.sign(digest)
            try:
                return bytes(super().gen_header(fields, include_headers, canon_policy, header_name, self.openssl,
                                                standardize))
            finally:
                self.signature_algorithm = b"rsa-sha256"

    return Signer


@functools.lru_cache(maxsize=4)
def _openssl_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(pem, password=None)


def aligned(dkim_domain: str, from_domain: str) -> bool:
    """Whether DMARC can align the two domains: equal, or one inside the other (relaxed alignment)."""
    d, f = dkim_domain.lower().rstrip("."), from_domain.lower().rstrip(".")
    return d == f or f.endswith("." + d) or d.endswith("." + f)
