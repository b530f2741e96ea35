.PHONY: demo test bootstrap lint fmt clean

# Run the product on this machine (no external server needed) and print the URL and the demo logins.
demo:
	@bash deploy/scripts/bootstrap.sh
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
