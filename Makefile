.PHONY: lint test bench
lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
test:
	bash scripts/test.sh
bench:
	.venv/bin/python benchmarks/run.py
