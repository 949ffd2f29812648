# Two commands matter (see README): `make demo` and `make test`. Everything installs into .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

# Sample company for the demo; override like `make demo EMPLOYEES=500 MONTHS=12`.
EMPLOYEES ?= 2000
MONTHS    ?= 24
SEED      ?= 7
LANDING   ?= data/landing

.PHONY: setup demo generate run dev test lint format clean chromium

setup: $(VENV)/.installed $(DAGSTER_HOME)/dagster.yaml

# The instance settings (one warehouse writer at a time) the project ships in deploy/.
$(DAGSTER_HOME)/dagster.yaml: deploy/dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp deploy/dagster.yaml $@

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	@touch $@

generate: setup
	@test -f $(LANDING)/_generator_manifest.json || \
		$(BIN)/retention-pipeline generate --out $(LANDING) \
			--employees $(EMPLOYEES) --months $(MONTHS) --seed $(SEED)

run: setup
	PIPELINE_LANDING_DIR=$(LANDING) $(BIN)/retention-pipeline run

demo: generate run

dev: setup
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project/models --disable-progress-bar

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/sqlfluff fix dbt_project/models --disable-progress-bar

# The browser test drives Debian's chromium (Playwright never downloads a browser here).
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: setup lint chromium
	$(BIN)/pytest

clean:
	rm -rf data dbt_project/target dbt_project/logs .pytest_cache
