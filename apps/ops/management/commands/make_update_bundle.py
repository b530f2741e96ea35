from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.ops.updates import UpdateError, generate_keys, make_bundle


class Command(BaseCommand):
    help = ("Build and sign an update bundle of the source tree for the release process "
            "(or --generate-key PREFIX to create the release key pair).")

    def add_arguments(self, parser):
        parser.add_argument("--key", help="the release Ed25519 private key (PEM); keep it off the boxes")
        parser.add_argument("--source", default=str(settings.BASE_DIR), help="the application tree to ship")
        parser.add_argument("--dest", default=".", help="where to write wellsite-update-<version>.tar")
        parser.add_argument("--generate-key", metavar="PREFIX",
                            help="write PREFIX.key (private, mode 600) and PREFIX.pub (for OPS_UPDATE_PUBLIC_KEY)")

    def handle(self, *args, **options):
        try:
            if options["generate_key"]:
                private, public = generate_keys(Path(options["generate_key"]))
                self.stdout.write(f"private key: {private}\npublic key:  {public}")
                return
            if not options["key"]:
                raise CommandError("--key is required to sign a bundle")
            bundle = make_bundle(Path(options["source"]), Path(options["key"]), Path(options["dest"]))
        except UpdateError as exc:
            raise CommandError(str(exc))
        self.stdout.write(self.style.SUCCESS(f"bundle written: {bundle}"))
