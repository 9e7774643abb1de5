"""PostgreSQL enforces the journal's two rules itself, whoever writes to it.

1. Append-only: a statement-level trigger refuses every UPDATE and DELETE (a correction is a
   reversal). TRUNCATE is not trapped: the test runner empties tables with it, and production
   grants the application role no TRUNCATE (nor table ownership).
2. Balanced: PostgreSQL allows constraint (deferrable) triggers only FOR EACH ROW, and a row
   trigger on the journal would run 100,000 times for one pay-day posting. So a statement-level
   AFTER INSERT trigger reads its transition table once and notes each transaction id it saw in
   ``ledger_txn_pending`` (one row per txn, ON CONFLICT DO NOTHING); the deferred constraint
   trigger sits on that small table, fires once per txn at commit, sums that txn's legs from
   the journal itself (index on txn_id) and refuses the commit if debits and credits differ.
   It then removes the note, so the table is empty outside open transactions and a txn touched
   again after SET CONSTRAINTS ... IMMEDIATE is noted and checked again.

SQLite (the embedded demo) gets neither rule: the posting services keep both by construction.
"""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION ledger_journal_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_journalentry is append-only: % refused; post a reversal instead', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER ledger_journal_append_only
    BEFORE UPDATE OR DELETE ON ledger_journalentry
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_journal_refuse_change();

CREATE TABLE ledger_txn_pending (txn_id uuid PRIMARY KEY);

CREATE FUNCTION ledger_journal_note_txns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ledger_txn_pending (txn_id)
        SELECT DISTINCT txn_id FROM new_entries
        ON CONFLICT (txn_id) DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE TRIGGER ledger_journal_note_txns
    AFTER INSERT ON ledger_journalentry
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_journal_note_txns();

CREATE FUNCTION ledger_txn_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    debits numeric;
    credits numeric;
BEGIN
    DELETE FROM ledger_txn_pending WHERE txn_id = NEW.txn_id;
    IF NOT FOUND THEN
        RETURN NULL;  -- already checked by an earlier event of this transaction
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

CREATE CONSTRAINT TRIGGER ledger_txn_balanced
    AFTER INSERT ON ledger_txn_pending
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_txn_check_balanced();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS ledger_txn_balanced ON ledger_txn_pending;
DROP TABLE IF EXISTS ledger_txn_pending;
DROP FUNCTION IF EXISTS ledger_txn_check_balanced();
DROP TRIGGER IF EXISTS ledger_journal_note_txns ON ledger_journalentry;
DROP FUNCTION IF EXISTS ledger_journal_note_txns();
DROP TRIGGER IF EXISTS ledger_journal_append_only ON ledger_journalentry;
DROP FUNCTION IF EXISTS ledger_journal_refuse_change();
"""


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # None: the % in RAISE are not placeholders

    return run


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(BACKWARD))]
