"""Backup / verify / restore figures: `python bench/ops_backup.py [ROWS] [--postgres]`.

Creates a throw-away box (SQLite under a temporary VAR_DIR, or with --postgres a PostgreSQL cluster started from the
system binaries like the tests do), fills wells_site with ROWS rows (default 50 000), then times `manage.py backup`
(plain and encrypted), `verify_backup` and `restore` into an empty database, and prints the archive sizes.
Wall-clock figures on this machine; nothing is asserted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def manage(env: dict, *args: str) -> float:
    full = {**os.environ, "DEBUG": "1", "LOG_FORMAT": "plain", "OPS_BACKUP_SCHEDULE": "0", **env}
    started = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=full, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    rows = int(args[0]) if args else 50_000
    postgres = "--postgres" in sys.argv
    base = Path(tempfile.mkdtemp(prefix="wellsite-bench-ops-"))
    env = {"VAR_DIR": str(base / "var"), "MEDIA_ROOT": str(base / "media")}
    target = {"VAR_DIR": str(base / "restored"), "MEDIA_ROOT": str(base / "media2")}
    server = None
    if postgres:
        sys.path.insert(0, str(ROOT))
        import psycopg

        from tests.servers import PostgresServer

        server = PostgresServer().start()
        with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench_src")
            conn.execute("CREATE DATABASE bench_dst")
        env["DATABASE_URL"] = server.url("bench_src")
        target["DATABASE_URL"] = server.url("bench_dst")
    try:
        run(rows, base, env, target, postgres)
    finally:
        if server is not None:
            server.stop()


def run(rows: int, base: Path, env: dict, target: dict, postgres: bool) -> None:
    manage(env, "migrate", "-v0")
    fill = (
        "from apps.wells.models import Field, Site\n"
        "f = Field.objects.create(code='BENCH', name='Bench field')\n"
        f"Site.objects.bulk_create([Site(field=f, code=f'S{{i}}', name=f'Site {{i}}', latitude='31.5', "
        f"longitude='-102.25') for i in range({rows})], batch_size=5000)\n"
    )
    manage(env, "shell", "-c", fill)
    if postgres:
        import psycopg

        with psycopg.connect(env["DATABASE_URL"]) as conn:
            db_size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    else:
        db_size = (base / "var" / "wellsite.sqlite3").stat().st_size
    passfile = base / "pass"
    passfile.write_text("bench passphrase")
    t_plain = manage(env, "backup", "--dest", str(base / "plain"), "-v0")
    t_enc = manage(env, "backup", "--dest", str(base / "enc"), "--passphrase-file", str(passfile), "-v0")
    plain = next((base / "plain").glob("*.tar"))
    enc = next((base / "enc").glob("*.tar.enc"))
    t_verify = manage(env, "verify_backup", str(enc), "--passphrase-file", str(passfile), "-v0")
    t_restore = manage(target, "restore", str(enc), "--passphrase-file", str(passfile), "-v0")
    engine = "PostgreSQL" if postgres else "SQLite"
    print(f"{engine} box with {rows} wells_site rows, database {db_size / 1e6:.1f} MB")
    print(f"backup (plain):      {t_plain:6.2f} s   archive {plain.stat().st_size / 1e6:.1f} MB")
    print(f"backup (encrypted):  {t_enc:6.2f} s   archive {enc.stat().st_size / 1e6:.1f} MB")
    print(f"verify_backup:       {t_verify:6.2f} s")
    print(f"restore (verify+restore+row count/checksum comparison): {t_restore:6.2f} s")
    print("(each figure includes ~1-2 s of Django start-up of the manage.py process)")


if __name__ == "__main__":
    main()
