from django.core.management.base import BaseCommand, CommandError

from filebrowser.consistency import check_consistency, delete_orphans

SHOWN = 20  # entries of each kind printed; the counts are always complete


class Command(BaseCommand):
    help = (
        "Compare the file tables with storage: registered files that are missing, stored "
        "objects that no row names (orphans) and size mismatches. Exits 1 unless consistent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--delete-orphans", action="store_true", help="remove the orphaned objects"
        )

    def handle(self, *args, **options):
        report = check_consistency()
        sections = (
            ("missing from storage", report.missing),
            ("orphans in storage", report.orphans),
            ("size mismatches", [f"{key}: {row} in the database, {size} stored"
                                 for key, row, size in report.wrong_size]),
        )  # fmt: skip
        for title, entries in sections:
            self.stdout.write(f"{len(entries)} {title}")
            for entry in entries[:SHOWN]:
                self.stdout.write(f"  {entry}")
            if len(entries) > SHOWN:
                self.stdout.write(f"  ... and {len(entries) - SHOWN} more")
        if options["delete_orphans"] and report.orphans:
            self.stdout.write(f"deleted {delete_orphans(report)} orphans")
            report.orphans = []
        if not report.consistent:
            raise CommandError("the database and the storage do not agree")
        self.stdout.write("consistent")
