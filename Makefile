# Duet: the two commands a new user runs (see README.md).
#   make demo   installs what it needs, builds, and runs the demo on the embedded store
#   make test   installs what it needs, builds, and runs the whole test suite

APT_PACKAGES := libhiredis-dev libsqlite3-dev libopenblas-dev libcurl4-openssl-dev pkg-config \
                redis-server prometheus wrk python3 python3-yaml python3-pip
MOTO_VERSION := 5.2.1
SCHEMATHESIS_VERSION := 4.32.5
SWIFT ?= $(shell command -v swift || echo /opt/swift/usr/bin/swift)

.PHONY: deps test-peers build release demo test bench clean

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# moto_server (PyPI moto[server]): the S3-compatible peer of the s3:// pull tests; schemathesis (PyPI, this
# version exactly): the fuzzer of scripts/check-openapi (Debian's own python3 refuses a plain pip install,
# hence the fallback).
test-peers:
	@command -v moto_server >/dev/null 2>&1 || { echo "installing: moto[server]==$(MOTO_VERSION)"; python3 -m pip install --quiet 'moto[server]==$(MOTO_VERSION)' 2>/dev/null \
	  || python3 -m pip install --quiet --break-system-packages 'moto[server]==$(MOTO_VERSION)'; }
	@schemathesis --version 2>/dev/null | grep -qx 'schemathesis, version $(SCHEMATHESIS_VERSION)' || { echo "installing: schemathesis==$(SCHEMATHESIS_VERSION)"; \
	  python3 -m pip install --quiet 'schemathesis==$(SCHEMATHESIS_VERSION)' 2>/dev/null \
	  || python3 -m pip install --quiet --break-system-packages 'schemathesis==$(SCHEMATHESIS_VERSION)'; }

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

demo: build
	./scripts/demo

test: deps test-peers
	./scripts/check-deploy
	$(SWIFT) build --build-tests
	./scripts/check-openapi
	$(SWIFT) test --skip-build --no-parallel

bench: deps
	./scripts/bench-all

clean:
	rm -rf .build .build-*
