"""Bulk loading for the store generators (gen_store.py, gen_events.py): one transaction, with
the indexes of the tables being filled dropped before and rebuilt after, which is much faster
than maintaining them row by row. Generated data, so synchronous is off: a crash during the
load just means running it again. Stdlib only.
"""


def bulk_load(db, tables, fill):
    """Runs fill() in one transaction on `db` (autocommit connection, sqlite3.Row rows) with the
    indexes of `tables` dropped around it, then checkpoints the WAL into the database file."""
    marks = ",".join("?" for _ in tables)
    indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                         f"tbl_name IN ({marks}) AND sql IS NOT NULL", tables).fetchall()
    db.execute("PRAGMA synchronous = OFF")
    db.execute("BEGIN")
    for index in indexes:
        db.execute(f'DROP INDEX "{index["name"]}"')
    fill()
    for index in indexes:
        db.execute(index["sql"])
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
