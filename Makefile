.PHONY: demo test bootstrap lint fmt clean check-deploy

# Run the product on this machine (no external server needed) and print the URL and the demo logins.
demo:
	@bash deploy/scripts/bootstrap.sh --demo
	@bash deploy/scripts/demo.sh

# Install what is missing (virtualenv, pinned packages, PostgreSQL/Redis/Mosquitto binaries), then ruff,
# manage.py check, makemigrations --check and the pytest suite on a real PostgreSQL plus a SQLite pass.
test:
	@bash deploy/scripts/bootstrap.sh --servers
	@bash deploy/scripts/test.sh

bootstrap:
	@bash deploy/scripts/bootstrap.sh --servers

lint:
	.venv/bin/ruff check .

fmt:
	.venv/bin/ruff check --fix .

clean:
	rm -rf var/static .pytest_cache

# Production settings hardening: `manage.py check --deploy` with HTTPS on (HSTS, SSL redirect, secure cookies,
# referrer policy) must report no security warning (--tag security: the API schema warnings that drf-spectacular
# adds under --deploy are the API apps' business).
check-deploy:
	@SECRET_KEY="deploy-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" ALLOWED_HOSTS=edge.example.local \
	  DEBUG=0 HTTPS_ONLY=1 BEHIND_TLS_PROXY=1 VAR_DIR="$$(mktemp -d)" \
	  .venv/bin/python manage.py check --deploy --tag security --fail-level WARNING
# --- end of check-deploy ---
