# The two commands a newcomer needs are `make demo` and `make test`; each sets up first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export QT_QPA_PLATFORM ?= offscreen

.PHONY: setup test lint demo sample-data zip screenshots backtest clean

setup:
	@bash scripts/setup.sh

lint: setup
	@$(VENV)/bin/ruff check .

# the test files spread over the machine's cores (each file's tests stay in one process:
# they share module fixtures)
test: setup
	@$(VENV)/bin/ruff check .
	@$(PY) -m pytest -n auto --dist loadfile

# the whole job on the Camden sample; prints where the report is
demo: setup
	@$(VENV)/bin/community-safety demo --out out/camden

sample-data: setup
	@$(PY) scripts/build_sample_data.py --source ../shared/data/camden --out resources/sample_data/camden

zip: setup
	@$(PY) scripts/build_plugin_zip.py --out dist

# the targeting backtest on the Camden sample, and its capture curve for the README
backtest: setup
	@bash scripts/backtest_camden.sh

# the README's pictures: the plugin installed and run in the real QGIS desktop app, and
# the partner report of the whole sample job in headless Chromium
screenshots: setup
	@$(PY) scripts/desktop_app.py --work build/desktop --docs docs
	@$(PY) scripts/ward_atlas_screenshot.py --out docs/ward_atlas.png
	@$(PY) scripts/wizard_screenshots.py --docs docs --work build/wizard
	@$(VENV)/bin/community-safety demo --out build/demo/camden >/dev/null
	@$(PY) scripts/report_in_chromium.py build/demo/camden/report.html --docs docs

clean:
	rm -rf build dist .pytest_cache .ruff_cache
