# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
REPLICAS ?= 2
# pytest-xdist workers for `make test` (tests/conftest.py: one heavy module at a time); 0 runs the suite in one process.
TEST_WORKERS ?= 3

.PHONY: run serve-replicas test test-full test-fast bench train-default clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

run: $(VENV)/.runtime
	$(PY) -m streamlit run app.py --server.port $(PORT)

# N replicas behind HAProxy on 127.0.0.1:$(PORT), sticky sessions and websockets (deploy/serve_replicas.py).
serve-replicas: $(VENV)/.runtime
	$(PY) deploy/serve_replicas.py --replicas $(REPLICAS) --port $(PORT)

# Also prints the line and branch coverage of cnnviz/ (.coveragerc), before pytest's closing line.
# The sweeps over the Keras Applications run each family's smallest member (tests/sweeps.py);
# test-full (what CI runs) runs every member too.
test: $(VENV)/.dev
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not full" --cov --cov-report=term

test-full: $(VENV)/.dev
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --cov --cov-report=term

# Unit and app tests only, no browser.
test-fast: $(VENV)/.dev
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not browser and not full"

bench: $(VENV)/.dev
	$(PY) -m bench

train-default: $(VENV)/.runtime
	$(PY) -m cnnviz.build.train_default

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache
