"""Stage 3, digest: each feed's newsletter for its latest complete period, rendered once.

Owns periods (periods.py), choosing articles and recording editions
(build.py), the template data and the size limit (edition.py), rendering with
jinja2 and premailer (render.py), and the digest's files (files.py).

Imports: the shared vocabulary, state, and send.message (the message a digest
becomes, to measure it and to write its sample). Never collect, feeds,
subscribers, web, the pipeline or the CLI.
"""

from .build import DigestResult, build_digests
from .files import write_digest_files

__all__ = ["DigestResult", "build_digests", "write_digest_files"]
