from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

MAKE_DATA = (
    "from apps.wells.models import Field, Site\n"
    "f = Field.objects.create(code='FX', name='Field \u00e9 X')\n"
    "[Site.objects.create(field=f, code=f'S{i}', name=f'Site {i}', latitude='31.5', longitude='-102.25') "
    "for i in range(25)]\n"
)


def manage(env_extra: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run manage.py in a child process with its own database (the embedded SQLite box, or another PG database)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST", "WELLSITE_TEST"))}
    env.update({"DEBUG": "1", "LOG_FORMAT": "plain", "OPS_BACKUP_SCHEDULE": "0", "PYTHONDONTWRITEBYTECODE": "1"})
    env.update(env_extra)
    proc = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=240)
    if check and proc.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc
