"""The state: everything masthead remembers between runs, kept private outside output/.

Owns the database (db.py: the connection, the schema and its migrations)
and every query on it, one module per table or group of tables: filecache,
articles, digests, roster, sends, builds, httpcache, signups, feedback
(bounces, complaints, return paths, status history, webhook receipts). Also the
publication's lock (lock.py) and atomic file writes (atomic.py).

Imports: records, errors and config only; every stage may import it.
"""

from .atomic import atomic_write
from .db import Store, open_store, stamp
from .lock import publication_lock

__all__ = ["Store", "atomic_write", "open_store", "publication_lock", "stamp"]
