# Two commands do everything: `make run` (the main job) and `make test`. Both set up .venv first.
PY := .venv/bin/python
STAMP := .venv/.racer-installed

.PHONY: run test setup bench docs

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

setup: $(STAMP)

# Train on the default track with the default reward function, evaluate, and record two laps, into a new
# run directory each time (an earlier run is never touched).
RUN := runs/main-$(shell date +%Y%m%d-%H%M%S)
run: $(STAMP)
	$(PY) train.py --out $(RUN)
	.venv/bin/racer watch $(RUN) --laps 2 --record $(RUN)/lap.mp4
	@echo "watch it live: .venv/bin/racer watch $(RUN)   (after '. .venv/bin/activate': racer watch $(RUN))"

# The tests (tests/ and the doctests in racer_env/, see pyproject.toml), after the type checker; then the docs.
test: $(STAMP)
	$(PY) -m mypy
	SDL_VIDEODRIVER=dummy $(PY) -m pytest -q
	$(MAKE) docs

# The documentation site, offline, into site/; a warning (a broken link, a page left out) fails the build.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet

bench: $(STAMP)
	$(PY) benchmarks/env_steps.py
	$(PY) benchmarks/render_fps.py
