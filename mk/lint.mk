# make lint: static checks, no build. Python: ruff on export/ (its configuration: [tool.ruff] in export/pyproject.toml;
# ruff is pinned in export/requirements.txt, so `make venv` installs it). Swift and C checks are added here too.
.PHONY: lint lint-python

lint: lint-python

lint-python: venv
	$(VENV)/bin/ruff check export
