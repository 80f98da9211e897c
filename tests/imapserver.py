"""A small IMAP4rev1 server on 127.0.0.1 for the bounce reader's tests: one folder, LOGIN, UID SEARCH/FETCH/STORE.

It speaks just the commands imaplib sends for reading unread messages and
marking them read; it keeps the \\Seen flags so a second read finds nothing new.
"""

from __future__ import annotations

import re
import shlex
import socketserver
import threading


class _Session(socketserver.StreamRequestHandler):
    server: _Server

    def reply(self, text: str | bytes) -> None:
        self.wfile.write(text if isinstance(text, bytes) else (text + "\r\n").encode())

    def handle(self) -> None:
        box = self.server.box
        self.reply("* OK IMAP4rev1 test server ready")
        while line := self.rfile.readline():
            tag, _, rest = line.decode().strip().partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            if command == "CAPABILITY":
                self.reply("* CAPABILITY IMAP4rev1")
            elif command == "LOGIN":
                user, password = shlex.split(args)
                if (user, password) != (box.user, box.password):
                    self.reply(f"{tag} NO [AUTHENTICATIONFAILED] wrong password")
                    continue
            elif command == "SELECT":
                self.reply(f"* {len(box.messages)} EXISTS")
                self.reply(f"{tag} OK [READ-WRITE] SELECT completed")
                continue
            elif command == "UID":
                self.uid(tag, args)
                continue
            elif command == "LOGOUT":
                self.reply("* BYE")
                self.reply(f"{tag} OK LOGOUT completed")
                return
            self.reply(f"{tag} OK {command} completed")

    def uid(self, tag: str, args: str) -> None:
        box = self.server.box
        verb, _, rest = args.partition(" ")
        if verb.upper() == "SEARCH":
            unseen = [str(uid) for uid in sorted(box.messages) if uid not in box.seen]
            self.reply("* SEARCH " + " ".join(unseen))
        elif verb.upper() == "FETCH":
            uid = int(rest.split()[0])
            raw = box.messages[uid]
            self.reply(f"* {uid} FETCH (UID {uid} BODY[] {{{len(raw)}}}".encode() + b"\r\n" + raw + b")\r\n")
        elif verb.upper() == "STORE":
            uid = int(rest.split()[0])
            if re.search(r"\\Seen", rest):
                box.seen.add(uid)
            self.reply(f"* {uid} FETCH (UID {uid} FLAGS (\\Seen))")
        self.reply(f"{tag} OK UID {verb} completed")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    box: ImapServer


class ImapServer:
    """One mailbox (``user``/``password``) of ``messages``; ``url`` is for --imap."""

    def __init__(self, messages: list[bytes], *, user: str = "bounces", password: str = "s3cret") -> None:
        self.messages = dict(enumerate(messages, 1))
        self.seen: set[int] = set()
        self.user, self.password = user, password
        self.server = _Server(("127.0.0.1", 0), _Session)
        self.server.box = self

    @property
    def url(self) -> str:
        return f"imap://{self.user}@127.0.0.1:{self.server.server_address[1]}/INBOX"

    def __enter__(self) -> ImapServer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
