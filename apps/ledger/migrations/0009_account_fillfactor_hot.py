"""Employee accounts at fillfactor 45 (was 70, 0004), so a pay day's balance UPDATE is HOT for every row.

A pay day moves the balance of every account it pays in one UPDATE. A HOT update writes the new
row version on the same page and no index entry, but only if the page has room for it. An account
row is ~95 bytes, so at 70 % a page keeps room for the new versions of fewer than half its rows
(benchmarks/bench_payday.py, 100k rows: 84,640 of 194,006 updates HOT over its two runs), and every
other row cost a new heap page plus an entry in both indexes (pkey, number). At 45 % the page keeps
room for a new version of every row it holds: 194,006 of 194,006 HOT, and the balance UPDATE's
backend CPU 0.32 s -> 0.16-0.17 s (posting 1.04-1.09 s -> 0.86-0.88 s, load 1.3-2.5). The old
versions are pruned when the page is next visited after the commit, so the room is there again the
next pay day. The price is an account heap ~1.5x the size it had at 70 %.

fillfactor applies to pages filled from now on (COPY of 批量开户 included); an existing installation
gets it for its old pages by rewriting the table once in a quiet hour (VACUUM FULL or pg_repack),
which is not done here because it locks the table.

Tried and not kept: payroll_payrollrow at fillfactor 50 for the classify UPDATE (189,052 of 200,000
HOT instead of 124,400) saved only 0.03-0.05 s of backend CPU for twice the heap of every stored
batch, which the 入库 COPY would have to write.
"""

from django.db import migrations


def _on_postgresql(sql: str):
    # fillfactor is PostgreSQL's; the embedded demo database (SQLite) has no such setting.
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("ledger", "0008_payday_runs")]
    operations = [migrations.RunPython(_on_postgresql("ALTER TABLE ledger_ledgeraccount SET (fillfactor = 45)"),
                                       _on_postgresql("ALTER TABLE ledger_ledgeraccount SET (fillfactor = 70)"))]
