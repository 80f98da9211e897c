"""What DKIM signing costs per message: masthead's signer beside plain dkimpy and one OpenSSL RSA signature.

    .venv/bin/python bench/signing.py [ROUNDS]

The message is the sample Arabic digest's size (~30 KB of quoted-printable
HTML). masthead signs with dkimpy (canonicalising, hashing, the header) and
OpenSSL's RSA; plain ``dkim.sign`` computes RSA in Python; the last row is
the RSA operation alone in OpenSSL, the floor. Rounds alternate the four;
min and median per message.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import dkim
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from masthead.send.dkim import generate_key, key_from_pem, sign

HEAD = (b"From: =?utf-8?b?2YXYsdi12K8=?= <newsletter@news.example.org>\r\nTo: reader@example.com\r\n"
        b"Subject: =?utf-8?b?2YbYtNix2Kk=?=\r\nDate: Sat, 07 May 2022 06:00:00 +0000\r\n"
        b"Message-ID: <0123456789abcdef@news.example.org>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=\"utf-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
MESSAGE = HEAD + (b"=D8=A3=D9=83=D8=AF =D8=A7=D9=84=D8=B1=D8=A6=D9=8A=D8=B3 <td dir=3D\"rtl\">=\r\n") * 420
PER_ROUND = 10


def main(rounds: int) -> None:
    rsa_pem, _ = generate_key("rsa", 2048)
    ed_pem, _ = generate_key("ed25519")
    rsa_key = key_from_pem(rsa_pem, domain="news.example.org", selector="r", where="bench")
    ed_key = key_from_pem(ed_pem, domain="news.example.org", selector="e", where="bench")
    openssl = serialization.load_pem_private_key(rsa_pem, password=None)
    runs = {
        "masthead rsa-sha256": lambda: sign(MESSAGE, rsa_key),
        "masthead ed25519-sha256": lambda: sign(MESSAGE, ed_key),
        "plain dkim.sign rsa-sha256": lambda: dkim.sign(MESSAGE, b"r", b"news.example.org", rsa_pem,
                                                        canonicalize=(b"relaxed", b"relaxed")),
        "OpenSSL RSA-2048 signature alone": lambda: openssl.sign(MESSAGE, padding.PKCS1v15(), hashes.SHA256()),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        run()                                   # imports and caches
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            for _ in range(PER_ROUND):
                run()
            times[name].append((time.perf_counter() - start) / PER_ROUND * 1000)
    base = statistics.median(times["OpenSSL RSA-2048 signature alone"])
    print(f"message {len(MESSAGE):,} bytes, {rounds} rounds of {PER_ROUND}")
    for name, values in times.items():
        print(f"{name:34} min {min(values):6.2f} ms  median {statistics.median(values):6.2f} ms  "
              f"({statistics.median(values) / base:4.1f}x the OpenSSL signature)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
