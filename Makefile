# scenec: `make demo` sets everything up and runs the main job on the example scenes (check, compile,
# cost, and a render against the loopback test server); `make test` runs the tests.
# `make bench` prints the figures recorded in docs/performance.md (about 5 minutes).
# Another interpreter in its own venv: `make test PY=/root/.pyenv/versions/3.13.0/bin/python VENV=.venv-3.13.0`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo lint test parser golden docs bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/scenec check scenes
	@mkdir -p build
	@for scene in scenes/*.scene; do \
	  name=$$(basename $$scene .scene); \
	  $(BIN)/scenec compile $$scene -o build/$$name.json || exit 1; \
	  echo "compiled $$scene -> build/$$name.json"; \
	done
	$(BIN)/scenec compile scenes/alley.scene --explain -o build/alley.json
	$(BIN)/scenec cost scenes/ --region beijing
	$(BIN)/scenec cost scenes/ --region beijing --compare
	$(BIN)/scenec compile scenes/panels.scene --model happyhorse-1.0-r2v -o build/panels.happyhorse.json
	$(BIN)/python tools/demo_render.py alley.scene

# The linter and the type checker, configured in pyproject.toml ([tool.ruff], [tool.mypy]: compiler/).
lint: $(STAMP)
	$(BIN)/python -m ruff check
	$(BIN)/python -m mypy

test: $(STAMP) lint
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(BIN)/python -m pytest -q -n $${TEST_WORKERS:-auto} --dist worksteal

parser: $(STAMP)
	$(BIN)/python tools/gen_parser.py

golden: $(STAMP)
	$(BIN)/python tools/regen_golden.py

docs: $(STAMP)
	$(BIN)/python tools/gen_diagnostics_doc.py
	$(BIN)/python tools/gen_targets_doc.py

bench: $(STAMP)
	$(BIN)/python bench/bench.py
	$(BIN)/python bench/bench_scaling.py
	$(BIN)/python bench/bench_render.py
	$(BIN)/python bench/bench_writer.py
	$(BIN)/python bench/bench_status.py

clean:
	rm -rf build dist .pytest_cache .hypothesis .mypy_cache .ruff_cache
