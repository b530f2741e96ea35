import io

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.models import User
from apps.core.models import AuditEvent


def test_add_user_with_role_fields_and_password_from_stdin(world, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("Pump-jack-2026\n"))
    out = io.StringIO()
    call_command("add_user", "jdoe", "--role", "supervisor", "--field", "FA", "--password-stdin", stdout=out)
    user = User.objects.get(username="jdoe")
    assert user.role == "supervisor" and user.check_password("Pump-jack-2026")
    assert not user.all_fields
    assert [(s.kind, s.code) for s in user.scopes.all()] == [("field", "FA")]
    assert "Created user jdoe with role supervisor (field FA)" in out.getvalue()
    row = AuditEvent.objects.filter(object_type="accounts.user", object_id=str(user.pk), action="create").get()
    assert row.channel == "command"


def test_add_user_updates_role_and_rejects_weak_passwords(world, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("Pump-jack-2026\n"))
    call_command("add_user", "jdoe", "--role", "operator", "--password-stdin", stdout=io.StringIO())
    monkeypatch.setattr("sys.stdin", io.StringIO("Pump-jack-2027\n"))
    call_command("add_user", "jdoe", "--role", "viewer", "--password-stdin", stdout=io.StringIO())
    user = User.objects.get(username="jdoe")
    assert user.role == "viewer" and user.all_fields
    monkeypatch.setattr("sys.stdin", io.StringIO("123\n"))
    with pytest.raises(CommandError, match="Password refused"):
        call_command("add_user", "weak", "--role", "viewer", "--password-stdin", stdout=io.StringIO())


def test_add_user_rejects_unknown_role(db):
    with pytest.raises(CommandError):
        call_command("add_user", "x", "--role", "superhero")


def test_generated_password_is_printed_once_when_not_interactive(db, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    out = io.StringIO()
    call_command("add_user", "svc", "--role", "scada", stdout=out)
    password = out.getvalue().split("Generated password (shown once): ")[1].strip()
    assert User.objects.get(username="svc").check_password(password)


def test_seed_demo_twice_is_idempotent(db):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)
    assert User.objects.filter(username__in=["admin", "supervisor", "operator", "viewer", "scada"]).count() == 5
    assert User.objects.get(username="supervisor").check_password("Super-demo-2026")
    assert "admin       Admin-demo-2026" in out.getvalue()
