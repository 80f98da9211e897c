"""Subscribers: the roster of who follows which digest, CSV import, sign-up and its confirmation mail.

Owns checking addresses and names (roster.py), importing lists
(csvimport.py), double opt-in sign-up (signup.py), the confirmation
message (confirmation.py), and what comes back: reading bounces and
complaints (dsn.py), the mailbox sources and the suppression policy
(bounces.py), and the sending services' notifications (providers.py). The
rows themselves live in state/roster.py and state/feedback.py.

Imports: the shared vocabulary, state, and send (to mail confirmations).
Never collect, feeds, digest, web, the pipeline or the CLI.
"""

from .csvimport import ImportReport, import_csv
from .roster import add_subscriber, check_feeds, check_name, list_subscribers, normalise_address, remove_subscriber

__all__ = ["ImportReport", "add_subscriber", "check_feeds", "check_name", "import_csv", "list_subscribers",
           "normalise_address", "remove_subscriber"]
