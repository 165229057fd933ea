# Two commands do everything: `make run` (the main job) and `make test`. Both set up .venv first.
PY := .venv/bin/python
STAMP := .venv/.racer-installed

.PHONY: run test setup bench

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

setup: $(STAMP)

# Train on the default track with the default reward function, evaluate, and record a lap.
run: $(STAMP)
	rm -rf runs/main
	$(PY) train.py --out runs/main
	.venv/bin/racer watch runs/main --laps 2 --record runs/main/lap.mp4
	@echo "watch it live: .venv/bin/racer watch runs/main"

# The tests (tests/ and the doctests in racer_env/, see pyproject.toml), after the type checker.
test: $(STAMP)
	$(PY) -m mypy
	SDL_VIDEODRIVER=dummy $(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/env_steps.py
	$(PY) benchmarks/render_fps.py
