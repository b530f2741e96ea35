"""The service worker of offline data entry (static/js/offline/sw.js), served by a view.

Why a view and not /static/: a worker's scope cannot reach above the folder of its script unless the response says
``Service-Worker-Allowed``; whitenoise serves /static/ with far-future caching and no such header. The view serves the
script at /sync/sw.js with ``Service-Worker-Allowed: /`` (so it may control the form pages), ``Cache-Control:
no-cache`` (the browser revalidates it on every navigation, so a deploy reaches tablets at their next page load), and
prepends the configuration: the cache version, the hashed URLs of the app shell to precache, the pages that work
offline and the reference-data API lists they read.

The cache version changes on every deploy: it hashes the collected static manifest (hashed file names, so any CSS/JS
change) and the product version; without a manifest (DEBUG, tests) it hashes the project's static files. The worker
deletes every cache of another version when it activates. ``OFFLINE_CACHE_VERSION`` in the settings overrides it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

#: Pages (URL names) that work with the network cut; the worker caches them (network first) and warms them on login.
OFFLINE_PAGES = ["intervention:toolstring-builder-new", "production:dailywellproduction-create",
                 "drilling:timelogrow-create"]
#: Reference data those pages read through the API (GET, network first, cache fallback). Prefixes of the path.
REFERENCE_DATA = ["/api/v1/intervention/components/", "/api/v1/wells/wells/"]
#: Reference-data URLs the worker fetches when warming (the builder's own queries, so the cache keys match).
SHELL_SUFFIXES = (".css", ".js", ".woff", ".woff2", ".ttf", ".svg", ".png", ".ico")
REFERENCE_WARM = ["/api/v1/intervention/components/?active=true&limit=500", "/api/v1/wells/wells/?limit=500"]


def _project_static() -> list[str]:
    """Relative paths of the project's own static files (static/: CSS, JS, vendored libraries, fonts)."""
    names = []
    for root in settings.STATICFILES_DIRS:
        base = Path(root[1] if isinstance(root, tuple) else root)
        names += sorted(p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())
    return [n for n in names if n.endswith(SHELL_SUFFIXES) and n != "js/offline/sw.js"]


def _static_url(name: str) -> str | None:
    try:
        return staticfiles_storage.url(name)
    except ValueError:  # not in the manifest (collectstatic not run for it)
        return None


def cache_version() -> str:
    override = getattr(settings, "OFFLINE_CACHE_VERSION", "")
    if override:
        return str(override)
    digest = hashlib.sha256(str(settings.VERSION).encode())
    manifest_name = getattr(staticfiles_storage, "manifest_name", None)
    manifest = Path(staticfiles_storage.path(manifest_name)) if manifest_name else None
    if manifest is not None and manifest.exists():
        digest.update(manifest.read_bytes())
    else:
        for name in [*_project_static(), "js/offline/sw.js"]:
            path = finders.find(name)
            if path:
                digest.update(name.encode())
                digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]


def worker_config() -> dict:
    shell = [u for u in (_static_url(n) for n in _project_static()) if u]
    return {
        "version": cache_version(),
        "precache": shell,
        "outboxScript": _static_url("js/offline/outbox.js"),
        "pages": [reverse(name) for name in OFFLINE_PAGES],
        "referenceData": REFERENCE_DATA,
        "referenceWarm": REFERENCE_WARM,
        "staticPrefix": settings.STATIC_URL,
        "loginPath": reverse("accounts:login"),
    }


@require_GET
def service_worker(request):
    if not request.user.is_authenticated:  # registered from signed-in pages only; an update check after logout fails
        return HttpResponse("Sign in first.", status=401, content_type="text/plain")
    source = Path(finders.find("js/offline/sw.js")).read_text(encoding="utf-8")
    body = f"self.WELLSITE_OFFLINE = {json.dumps(worker_config())};\n{source}"
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response
