"""Bulk loading for the store generators (gen_store.py, gen_events.py, gen_scale_store.py): the
rows in one transaction with the indexes of the tables being filled dropped, which is much
faster than maintaining them row by row; then, once those rows are committed and checkpointed
into the database file, the indexes again, one at a time. Generated data, so synchronous is off:
a crash during the load just means running it again. Stdlib only.

The indexes used to be rebuilt inside the load's own transaction. Each CREATE INDEX then read
its table back out of the WAL, which held the whole uncommitted load: at 10,000,000 requests a
27 GB WAL on a machine with 24 GiB of memory, read at random at tens of MB/s, and the first
10 M run was stopped after an hour of index building. Read from the database file, a table is
a sequential scan.
"""


def bulk_load(db, tables, fill):
    """Runs fill() in one transaction on `db` (autocommit connection, sqlite3.Row rows) with the
    indexes of `tables` dropped, commits it and checkpoints the WAL into the database file, then
    creates the indexes again, each in its own transaction, checkpointing after each."""
    marks = ",".join("?" for _ in tables)
    indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                         f"tbl_name IN ({marks}) AND sql IS NOT NULL", tables).fetchall()
    db.execute("PRAGMA synchronous = OFF")
    db.execute("BEGIN")
    for index in indexes:
        db.execute(f'DROP INDEX "{index["name"]}"')
    fill()
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    # The index builds sort: a larger cache for the sorter, and its helper threads.
    db.execute("PRAGMA cache_size = -262144")
    db.execute("PRAGMA threads = 2")
    for index in indexes:
        db.execute(index["sql"])
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
