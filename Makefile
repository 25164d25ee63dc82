# `make test` / `make demo` / `make bench` work from a bare checkout: the first
# run creates .venv and installs deepcore (editable, with the dev, distributed and mkl extras); the
# stamp file makes later runs reinstall only when pyproject.toml changes.

PYTHON3 ?= python3
VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.deepcore-installed
PYTEST_ARGS ?=

.PHONY: test demo bench

$(PYTHON):
	$(PYTHON3) -m venv $(VENV)

# Order-only on $(PYTHON): a venv's interpreter mtime must not trigger a reinstall.
$(STAMP): pyproject.toml | $(PYTHON)
	$(PYTHON) -m pip install -e ".[dev,distributed,mkl]"
	touch $@

# pytest exits 5 when it collects no tests; like any non-zero status it fails the target.
test: $(STAMP)
	@$(PYTHON) -m pytest -q $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests (exit 5)" >&2; fi; \
	exit $$status

demo: $(STAMP)
	$(PYTHON) examples/mnist_demo.py

bench: $(STAMP)
	$(VENV)/bin/deepcore bench models --device cpu --compare torch

# Every kernels/*.cu kernel emulated on the CPU: parity, AddressSanitizer and ThreadSanitizer
# (tests/cudaemu, marker cudaemu). One kernel family: make test-kernels PYTEST_ARGS="-k conv".
.PHONY: test-kernels
test-kernels: $(STAMP)
	$(PYTHON) -m pytest -q -m cudaemu $(PYTEST_ARGS)
