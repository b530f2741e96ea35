import getpass
import secrets
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from apps.accounts import services
from apps.accounts.choices import Role
from apps.core.management.base import AuditedCommand


class Command(AuditedCommand):
    help = (
        "Create a user (or update an existing one) with a role and an optional field/site scope. "
        "Without --field/--site the user sees every field. The password comes from standard input "
        "(--password-stdin), an interactive prompt, or is generated and printed once."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--field", action="append", default=[], metavar="CODE", help="Field code (repeatable).")
        parser.add_argument("--site", action="append", default=[], metavar="CODE", help="Site code (repeatable).")
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--password-stdin", action="store_true", help="Read the password from standard input.")

    def handle(self, *args, **opts):
        generated = False
        if opts["password_stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("No password on standard input.")
        elif sys.stdin.isatty():
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords do not match.")
        else:
            password = secrets.token_urlsafe(14)
            generated = True
        self._warn_unknown_codes(opts["field"], opts["site"])
        try:
            user, created = services.create_or_update_user(
                opts["username"], opts["role"], password=password, fields=opts["field"], sites=opts["site"],
                email=opts["email"], first_name=opts["first_name"], last_name=opts["last_name"],
            )
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages)) from exc
        scope = ", ".join([f"field {c}" for c in opts["field"]] + [f"site {c}" for c in opts["site"]]) or "all fields"
        self.stdout.write(self.style.SUCCESS(
            f"{'Created' if created else 'Updated'} user {user.username} with role {opts['role']} ({scope})."
        ))
        if generated:
            self.stdout.write(f"Generated password (shown once): {password}")

    def _warn_unknown_codes(self, fields, sites):
        from apps.wells.models import Field, Site

        for code in set(fields) - set(Field.objects.filter(code__in=fields).values_list("code", flat=True)):
            self.stderr.write(self.style.WARNING(f"Field {code} does not exist yet; the scope applies once it does."))
        for code in set(sites) - set(Site.objects.filter(code__in=sites).values_list("code", flat=True)):
            self.stderr.write(self.style.WARNING(f"Site {code} does not exist yet; the scope applies once it does."))
