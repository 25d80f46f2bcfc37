# Attention, step by step — set-up, lab and tests. Each target creates .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup lab test test-fast lint notebooks fixtures clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/jupyter server extension enable --sys-prefix nbgrader.server_extensions.formgrader >/dev/null 2>&1 || true
	touch $(STAMP)

# JupyterLab with the learner's tools only, as the learner install has it (learner/jupyter/):
# Validate and the Assignments tab, no Create Assignment, Formgrader or Course List, no news.
LEARNER_JUPYTER := $(CURDIR)/learner/jupyter
LAB_ARGS ?=
# COURSE_LANG=zh-CN opens the Chinese edition (notebooks/zh-CN/, from `course generate --lang zh-CN`)
COURSE_LANG ?= en
LAB_NOTEBOOKS := notebooks$(if $(filter-out en,$(COURSE_LANG)),/$(COURSE_LANG))
lab: setup  ## set up, then open the course in JupyterLab
	cd $(LAB_NOTEBOOKS) && PATH="$(CURDIR)/$(BIN):$$PATH" TF_CPP_MIN_LOG_LEVEL=2 \
		JUPYTER_CONFIG_PATH="$(LEARNER_JUPYTER)/etc/jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
		$(CURDIR)/$(BIN)/jupyter lab --LabApp.app_settings_dir="$(LEARNER_JUPYTER)/share/jupyter/lab/settings" \
		$$( [ "$$(id -u)" = 0 ] && echo --allow-root ) $(LAB_ARGS) 00_welcome/00_welcome.ipynb

book: setup  ## the course website (every lesson executed, warnings as errors) -> book/_build/html
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python book/build.py
.PHONY: book

# JupyterHub's proxy (classroom/jupyterhub_config.py), from npm into .venv (needs npm).
PROXY := $(BIN)/configurable-http-proxy
.PHONY: hub-proxy
hub-proxy: $(PROXY)
$(PROXY): | $(STAMP)
	@if command -v npm >/dev/null; then \
		npm install --silent --no-audit --no-fund --prefix $(VENV)/node configurable-http-proxy@4 \
		&& ln -sf ../node/node_modules/.bin/configurable-http-proxy $(PROXY); \
	else echo "npm not found: JupyterHub's proxy not installed (apt-get install npm)"; fi

PYTEST := PATH="$(CURDIR)/$(BIN):$$PATH" TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/python -m pytest -n 2 --dist loadgroup -q --durations=15

test: setup hub-proxy  ## set up, then run the whole test suite
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/ruff check .
	$(PYTEST)

test-fast: setup  ## the tests without real autogrades of the lessons, browser, hub, PostgreSQL or cluster
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/ruff check .
	$(PYTEST) -m "not slow and not e2e"

# Then each edition in another language (grader.translations.LOCALES): notebooks/<language>/
# holds every lesson whose catalogue is complete.
notebooks: setup  ## regenerate notebooks/ and notebooks/<language>/ from solutions/
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/course generate
	languages=$$($(BIN)/python -c "from grader.translations import LOCALES; print(*LOCALES)") \
		&& for language in $$languages; do \
		PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/course generate --lang $$language || exit 1; done

fixtures: setup  ## regenerate the public checks' fixtures from the answer key
	$(BIN)/python -m grader.make_fixtures

.PHONY: learner-wheel
learner-wheel: setup  ## the learner install (course_lib + released notebooks, no answer key) -> learner/dist/
	$(BIN)/python learner/build.py

clean:
	rm -rf $(VENV) course_state .pytest_cache
