"""PostgreSQL guards for the ledger, so no code path (raw SQL, a bulk update, a bug) can break it:

- a posted journal entry and its lines cannot be updated or deleted (BEFORE triggers);
- a posted entry must balance (debits = credits, non-zero), checked at commit by deferred constraint triggers, so the
  lines of a new entry can be inserted one by one within its transaction.
SQLite (the embedded demo) relies on the model and service guards.
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION finance_journal_immutable() RETURNS trigger AS $$
DECLARE
    posted boolean;
BEGIN
    IF TG_TABLE_NAME = 'finance_journalentry' THEN
        IF OLD.status = 'posted' THEN
            RAISE EXCEPTION 'journal entry % is posted: reverse it instead of changing it', OLD.id
                USING ERRCODE = '23514';
        END IF;
    ELSE
        SELECT status = 'posted' INTO posted FROM finance_journalentry WHERE id = OLD.entry_id;
        IF posted THEN
            RAISE EXCEPTION 'lines of posted journal entry % cannot change', OLD.entry_id USING ERRCODE = '23514';
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION finance_journal_balanced() RETURNS trigger AS $$
DECLARE
    eid uuid;
    st varchar;
    d numeric;
    c numeric;
BEGIN
    IF TG_TABLE_NAME = 'finance_journalentry' THEN
        eid := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        eid := OLD.entry_id;
    ELSE
        eid := NEW.entry_id;
    END IF;
    SELECT status INTO st FROM finance_journalentry WHERE id = eid;
    IF st = 'posted' THEN
        SELECT COALESCE(SUM(debit), 0), COALESCE(SUM(credit), 0) INTO d, c
            FROM finance_journalline WHERE entry_id = eid;
        IF d <> c OR d = 0 THEN
            RAISE EXCEPTION 'journal entry % does not balance (debits %, credits %)', eid, d, c
                USING ERRCODE = '23514';
        END IF;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER finance_journalentry_immutable BEFORE UPDATE OR DELETE ON finance_journalentry
    FOR EACH ROW EXECUTE FUNCTION finance_journal_immutable();
CREATE TRIGGER finance_journalline_immutable BEFORE UPDATE OR DELETE ON finance_journalline
    FOR EACH ROW EXECUTE FUNCTION finance_journal_immutable();
CREATE CONSTRAINT TRIGGER finance_journalentry_balanced AFTER INSERT OR UPDATE ON finance_journalentry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION finance_journal_balanced();
CREATE CONSTRAINT TRIGGER finance_journalline_balanced AFTER INSERT OR UPDATE OR DELETE ON finance_journalline
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION finance_journal_balanced();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS finance_journalline_balanced ON finance_journalline;
DROP TRIGGER IF EXISTS finance_journalentry_balanced ON finance_journalentry;
DROP TRIGGER IF EXISTS finance_journalline_immutable ON finance_journalline;
DROP TRIGGER IF EXISTS finance_journalentry_immutable ON finance_journalentry;
DROP FUNCTION IF EXISTS finance_journal_balanced();
DROP FUNCTION IF EXISTS finance_journal_immutable();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:  # no parameters: the '%' of RAISE stays literal
            cursor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("finance", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
