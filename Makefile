# Two commands do everything: `make run` (the main job) and `make test`. Both set up .venv first.
PY := .venv/bin/python
STAMP := .venv/.racer-installed

.PHONY: run test setup bench

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	.venv/bin/python train.py --out runs/main

test: $(STAMP)
	SDL_VIDEODRIVER=dummy $(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/env_steps.py
