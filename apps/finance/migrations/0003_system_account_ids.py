"""Give the system accounts the same primary key on every box, and let the hub take a journal entry sent again.

1. The services created the system accounts (``services.SYSTEM_ACCOUNTS``) on first use with random UUIDs, so each
   box had its own id for account 1300 and a journal line synced from an edge pointed at an account the hub did not
   have. Each system account is now ``uuid5(ACCOUNT_NAMESPACE, code)`` (``models.account_id``): an existing one is
   re-keyed, with every foreign key that points at it (journal lines, AFE lines, cost centres: the foreign keys are
   checked at commit, so the account and its references change together), and a missing one is created, so every
   box (the hub included) has them all. The ledger's immutability trigger (0002) is switched off for the lines'
   update only, within this migration's transaction. This box's outbox rows naming a re-keyed account (the hub's
   feed) are rewritten to the new id, so an edge that pulls them gets the account under the id it has itself.
   Running it again changes nothing. The audit trail keeps the old id in the rows written before (it is append-only).
   A system account renamed to another code before this keeps its random id (the derived id stays free for a new
   one).
2. PostgreSQL: the immutability trigger lets through an UPDATE that changes nothing. The hub upserts every record it
   receives (INSERT ... ON CONFLICT DO UPDATE); a posted entry sent again (``sync_backfill``, a redelivery after the
   receipts were pruned) is such an update, and was refused.
"""

import uuid

from django.db import migrations

ACCOUNT_NAMESPACE = uuid.UUID("0f6a3c52-2b8e-5d1f-9c47-acc0000c0de5")  # = apps.finance.models.ACCOUNT_NAMESPACE

# code -> (name, type), as services.SYSTEM_ACCOUNTS had them when this migration was written.
SYSTEM_ACCOUNTS = {
    "1300": ("Materials and supplies inventory", "asset"),
    "1510": ("Wells in progress - tangible", "asset"),
    "1520": ("Wells in progress - intangible (IDC)", "asset"),
    "2000": ("Accounts payable", "liability"),
    "2100": ("Accrued payroll", "liability"),
    "2200": ("Accrued liabilities (field tickets, DDR costs)", "liability"),
    "6100": ("Lease operating expense", "expense"),
    "6900": ("Inventory adjustments", "expense"),
}
LINE_TRIGGER = "finance_journalline_immutable"


def account_id(code: str) -> uuid.UUID:
    return uuid.uuid5(ACCOUNT_NAMESPACE, code)


def rekey(apps, schema_editor):
    Account = apps.get_model("finance", "Account")
    connection = schema_editor.connection
    moves = []  # (old id, new id)
    for code, (name, kind) in SYSTEM_ACCOUNTS.items():
        new = account_id(code)
        old = Account._base_manager.filter(code=code).values_list("pk", flat=True).first()
        taken = Account._base_manager.filter(pk=new).exists()
        if old is None and not taken:
            Account._base_manager.create(id=new, code=code, name=name, account_type=kind)
        elif old is not None and old != new and not taken:
            moves.append((old, new))
    if not moves:
        return
    # Every foreign key to an account, hidden reverse relations (related_name="+") included.
    references = [(rel.related_model, rel.field.attname) for rel in Account._meta.get_fields(include_hidden=True)
                  if rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)]
    postgres = connection.vendor == "postgresql"
    guarded = False
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("SELECT 1 FROM pg_trigger WHERE tgname = %s", [LINE_TRIGGER])
            guarded = cursor.fetchone() is not None
        if guarded:
            cursor.execute(f"ALTER TABLE finance_journalline DISABLE TRIGGER {LINE_TRIGGER}")
        for old, new in moves:
            Account._base_manager.filter(pk=old).update(id=new)
            for model, attname in references:
                model._base_manager.filter(**{attname: old}).update(**{attname: new})
        if guarded:
            # Run the deferred checks (foreign keys, balance) now: a table with pending trigger events cannot be
            # altered, and the trigger must be back on before the transaction ends.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE finance_journalline ENABLE TRIGGER {LINE_TRIGGER}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    try:
        OutboxEvent = apps.get_model("sync", "OutboxEvent")
    except LookupError:  # the sync app is not migrated yet on this database: it has no events
        return
    for old, new in moves:
        for event in OutboxEvent._base_manager.filter(aggregate_type="finance.account", aggregate_id=str(old)):
            payload = dict(event.payload or {})
            if "id" in payload:
                payload["id"] = str(new)
            event.aggregate_id, event.payload = str(new), payload
            event.save(update_fields=["aggregate_id", "payload"])


IMMUTABLE_FUNCTION = r"""
CREATE OR REPLACE FUNCTION finance_journal_immutable() RETURNS trigger AS $$
DECLARE
    posted boolean;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN
        RETURN NEW;  -- changes nothing (the hub's upsert of an entry or line it already has)
    END IF;
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
"""

# The function as migration 0002 made it.
IMMUTABLE_FUNCTION_0002 = IMMUTABLE_FUNCTION.replace(
    """    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN
        RETURN NEW;  -- changes nothing (the hub's upsert of an entry or line it already has)
    END IF;
""", "")


def allow_noop_update(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:  # no parameters: the '%' of RAISE stays literal
            cursor.execute(IMMUTABLE_FUNCTION)


def refuse_noop_update(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(IMMUTABLE_FUNCTION_0002)


class Migration(migrations.Migration):
    dependencies = [("finance", "0002_journal_database_guards")]

    operations = [
        migrations.RunPython(rekey, migrations.RunPython.noop),
        migrations.RunPython(allow_noop_update, refuse_noop_update),
    ]
