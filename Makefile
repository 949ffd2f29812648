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

.PHONY: setup demo generate run dev test test-fast test-bi lint format clean chromium superset bi spark spark-thrift \
	bench bench-small bench-lrs

setup: $(VENV)/.installed $(DAGSTER_HOME)/dagster.yaml

# The instance settings (one warehouse writer at a time) the project ships in deploy/.
$(DAGSTER_HOME)/dagster.yaml: deploy/dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp deploy/dagster.yaml $@

# Bytecode is compiled at install: a run imports about 4,500 modules (Dagster, dbt, GX), and
# where PYTHONDONTWRITEBYTECODE is set Python would compile them all again in every process.
$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	@touch $@

generate: setup
	@test -f $(LANDING)/_generator_manifest.json || \
		$(BIN)/retention-pipeline generate --out $(LANDING) \
			--employees $(EMPLOYEES) --months $(MONTHS) --seed $(SEED)

# PIPELINE_ENGINE=spark (docs/spark.md) needs the Spark virtualenv too.
run: setup $(if $(filter spark,$(PIPELINE_ENGINE)),spark)
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

test: setup lint chromium superset spark
	$(BIN)/pytest

# The tests that run no pipeline, no service and no browser: a couple of minutes.
test-fast: setup
	$(BIN)/pytest -m "not pipeline and not ui"

# Superset on the publication (docs/bi-tools.md#superset), in its own virtualenv: its pins must
# not constrain the pipeline's. `make bi` after `make demo` serves it on 127.0.0.1:$(BI_PORT).
SUPERSET_VENV := .cache/superset-venv
export SUPERSET_HOME ?= $(CURDIR)/data/superset
export SUPERSET_CONFIG_PATH := $(CURDIR)/bi/superset/superset_config.py
PUBLISH_DIR ?= $(or $(PIPELINE_PUBLISH_DIR),data/published)
BI_PORT ?= 8088

# The Spark engine (docs/spark.md): dbt with dbt-spark and pyspark in a virtualenv of their own.
# Not in .venv: Great Expectations imports pyspark whenever it is installed, which would slow
# every check step and, in Dagster's step processes, exit them. Java 17 must be on PATH.
SPARK_VENV := .cache/spark-venv

spark: $(SPARK_VENV)/.installed

# A Spark Thrift Server over the lake on this machine, for PIPELINE_SPARK_METHOD=thrift.
spark-thrift: spark
	deploy/spark/thrift-server

$(SPARK_VENV)/.installed: dbt_project/requirements-spark.txt
	@command -v java >/dev/null || { echo "The Spark engine needs Java 17: apt-get install openjdk-17-jre-headless"; exit 1; }
	$(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/pip install --quiet --upgrade pip uv
	$(SPARK_VENV)/bin/uv pip install --quiet --python $(SPARK_VENV)/bin/python \
		-r dbt_project/requirements-spark.txt
	@touch $@

superset: $(SUPERSET_VENV)/.installed

$(SUPERSET_VENV)/.installed: bi/superset/requirements.txt
	$(PYTHON) -m venv $(SUPERSET_VENV)
	$(SUPERSET_VENV)/bin/pip install --quiet --upgrade pip uv
	$(SUPERSET_VENV)/bin/uv pip install --quiet --python $(SUPERSET_VENV)/bin/python \
		-r bi/superset/requirements.txt
	@touch $@

bi: superset
	$(SUPERSET_VENV)/bin/python bi/superset/provision.py --publish-dir $(PUBLISH_DIR) --demo-manager
	@echo "Superset: http://127.0.0.1:$(BI_PORT) (user admin; passwords in $(SUPERSET_HOME))"
	FLASK_APP=superset $(SUPERSET_VENV)/bin/superset run -h 127.0.0.1 -p $(BI_PORT) --with-threads

test-bi: setup chromium superset
	$(BIN)/pytest tests/test_superset.py

# Issue 8's benchmark, outside the test suite: ~1M and ~10M statements, each as a full build, an
# incremental day and the hand-tuned floor (benchmarks/floor.sql), and 1M on Spark too. About
# 55 min on 2 cores, and ~8 GB under BENCH_WORKDIR; it writes benchmarks/RESULTS.md, which
# benchmarks/README.md quotes.
BENCH_WORKDIR ?= /tmp/retention-bench

bench: setup spark
	$(BIN)/python benchmarks/bench.py --sizes small,large --spark small --workdir $(BENCH_WORKDIR)

# ~1M statements only, with the Spark column; written beside RESULTS.md so the 10M table stays.
bench-small: setup spark
	$(BIN)/python benchmarks/bench.py --sizes small --spark small --workdir $(BENCH_WORKDIR) \
		--out benchmarks/RESULTS-small.md

# What a pull, an incremental pull and a sweep cost the pipeline against an LRS of 1M statements.
bench-lrs: setup
	$(BIN)/python benchmarks/lrs_pull.py --statements 1000000

clean:
	rm -rf data dbt_project/target dbt_project/logs .pytest_cache
