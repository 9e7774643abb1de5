"""The commit-time check also verifies the legs' references, set-based, once per transaction.

The journal's account and batch columns no longer carry per-row foreign-key triggers (0003): at
100,000 legs those cost ~1.3 s at COMMIT. Instead the deferred check of 0002, which already reads
the txn's legs, refuses a txn with a leg whose account or batch does not exist; accounts refuse
DELETE (a ledger account is closed, never deleted), so a reference once valid stays valid.

The account table also gets a fillfactor of 70: a pay day moves the balance of every account it
pays in one UPDATE, and free room on the page lets PostgreSQL write those as HOT updates (no
index entries), roughly halving that statement's time in benchmarks/bench_payday.py.
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION ledger_txn_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    debits numeric;
    credits numeric;
    orphans bigint;
BEGIN
    DELETE FROM ledger_txn_pending WHERE txn_id = NEW.txn_id;
    IF NOT FOUND THEN
        RETURN NULL;  -- already checked by an earlier event of this transaction
    END IF;
    SELECT coalesce(sum(j.amount) FILTER (WHERE j.side = 'D'), 0),
           coalesce(sum(j.amount) FILTER (WHERE j.side = 'C'), 0),
           count(*) FILTER (WHERE a.id IS NULL OR (j.batch_id IS NOT NULL AND b.id IS NULL))
      INTO debits, credits, orphans
      FROM ledger_journalentry AS j
      LEFT JOIN ledger_ledgeraccount AS a ON a.id = j.account_id
      LEFT JOIN payroll_payrollbatch AS b ON b.id = j.batch_id
     WHERE j.txn_id = NEW.txn_id;
    IF debits <> credits THEN
        RAISE EXCEPTION 'unbalanced ledger transaction %: debits % <> credits %', NEW.txn_id, debits, credits
            USING ERRCODE = 'check_violation';
    END IF;
    IF orphans > 0 THEN
        RAISE EXCEPTION 'ledger transaction %: % leg(s) name an account or batch that does not exist',
            NEW.txn_id, orphans
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION ledger_account_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger accounts are closed, never deleted'
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER ledger_account_no_delete
    BEFORE DELETE ON ledger_ledgeraccount
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_account_refuse_delete();

ALTER TABLE ledger_ledgeraccount SET (fillfactor = 70);
"""

BACKWARD = r"""
ALTER TABLE ledger_ledgeraccount RESET (fillfactor);
DROP TRIGGER IF EXISTS ledger_account_no_delete ON ledger_ledgeraccount;
DROP FUNCTION IF EXISTS ledger_account_refuse_delete();
CREATE OR REPLACE FUNCTION ledger_txn_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    debits numeric;
    credits numeric;
BEGIN
    DELETE FROM ledger_txn_pending WHERE txn_id = NEW.txn_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT coalesce(sum(amount) FILTER (WHERE side = 'D'), 0),
           coalesce(sum(amount) FILTER (WHERE side = 'C'), 0)
      INTO debits, credits
      FROM ledger_journalentry WHERE txn_id = NEW.txn_id;
    IF debits <> credits THEN
        RAISE EXCEPTION 'unbalanced ledger transaction %: debits % <> credits %', NEW.txn_id, debits, credits
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;
"""


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # None: the % in RAISE are not placeholders

    return run


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_journal_references_set_based"), ("payroll", "0001_initial")]

    operations = [migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(BACKWARD))]
