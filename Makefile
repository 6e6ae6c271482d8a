# sanbuting: `make demo` and `make test` are all a new machine needs (Python >= 3.11 and make).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SPARK_STAMP := $(VENV)/.spark-installed

.PHONY: demo test lint typecheck unit fuzz bench crash clean lock

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "sanbuting needs Python >= 3.11 (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# The optional Spark extra (PySpark, with the machine's Java 17): the tests need it, the demo not.
$(SPARK_STAMP): $(STAMP) requirements-spark.lock
	$(BIN)/python -m pip install --quiet -r requirements-spark.lock
	@touch $(SPARK_STAMP)

demo: $(STAMP)
	@$(BIN)/python scripts/demo.py

test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/ruff format --check src tests scripts benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) $(SPARK_STAMP)
	SANBUTING_REQUIRE_SPARK=1 SANBUTING_REQUIRE_BROWSER=1 $(BIN)/pytest -q -n 2

fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -q -n 2 -m property

# Engine benchmark (not part of the tests): 1M accounts held in memory, fast against reference;
# then SMS sending to the test SMSC, a window of 1 against a window of 100 (docs/performance.md).
# Larger inputs: see docs/performance.md (sanbuting run --buckets, benchmarks/decision_day.py).
BENCH_ACCOUNTS ?= 1000000
bench: $(STAMP)
	$(BIN)/python benchmarks/engine_bench.py --accounts $(BENCH_ACCOUNTS)
	$(BIN)/python benchmarks/sms_bench.py gateway --messages 5000 --window 100
	$(BIN)/python benchmarks/sms_bench.py sender --backend sqlite --messages 5000 --window 100

# Crash trials (make test runs a short version, tests/test_crash.py): SIGKILL the payment
# worker, the daily run and the dispatcher at random moments, restart them, and compare with a
# crash-free run, CRASH_TRIALS trials on each database; and the SMS sender mid-window against
# the test SMSC (--sms also: each key at most once on the SMSC's log).
CRASH_TRIALS ?= 100
crash: $(STAMP)
	SANBUTING_TEST_DATABASE_URL=$${SANBUTING_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
		$(BIN)/python scripts/crash_trials.py --backend both --trials $(CRASH_TRIALS) --jobs 2 --start fork --sms also

# Re-pin the lock file from the current environment (after changing dependencies).
lock: $(STAMP)
	$(BIN)/python -m pip freeze --all --exclude-editable | grep -v -e '^sanbuting' -e '^pip==' -e '^pyspark' -e '^py4j' > requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache demo-out
