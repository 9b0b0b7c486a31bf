# Corral — see README.md.
GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X github.com/corral-dev/corral/services/version.Version=$(VERSION) -X github.com/corral-dev/corral/services/version.Revision=$(REVISION)
BINS    := corrald corral corral-shim
FUZZTIME ?= 20s
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin

.PHONY: all build install setup test unit fuzz integration soak demo bench bench-cri critest check clean help

all: build

help: ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build: ## build bin/corrald, bin/corral, bin/corral-shim
	@mkdir -p bin
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w $(LDFLAGS)' -o bin/ ./cmd/...

install: build ## install corrald, corral, corral-shim in PREFIX/bin (default /usr/local/bin), and containerd-shim-lcr-v1 → corral-shim
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(addprefix bin/,$(BINS)) $(DESTDIR)$(BINDIR)/
	ln -sf corral-shim $(DESTDIR)$(BINDIR)/containerd-shim-lcr-v1

setup: ## install Debian packages and Go modules (root, Debian 12)
	contrib/setup.sh

check: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

unit: ## unit tests only (no root needed)
	$(GO) test $$($(GO) list ./... | grep -v /integration)

fuzz: ## fuzz the OCI spec → LXC config translation for FUZZTIME (20s)
	$(GO) test -run '^$$' -fuzz '^FuzzTranslate$$' -fuzztime $(FUZZTIME) ./engine/lcr/

integration: build ## end-to-end tests against a real corrald, runc, runsc and ctr (root)
	$(GO) test -count=1 -v -timeout 30m ./integration/

test: check build fuzz ## everything CI runs: check, a bounded fuzz run, unit and integration tests
	$(GO) test -count=1 -timeout 30m ./...

soak: build ## soak test, not part of test: SOAK_CYCLES (1000) cycles from SOAK_CLIENTS (8) clients, SOAK_KILLS (5) kill -9 of corrald (root)
	$(GO) test -count=1 -v -timeout 4h -run '^TestSoak$$' ./integration/ -soak

bench-cri: build ## CRI figures against containerd 1.6's CRI on ../shared/cri-harness (docs/cri.md) (root)
	contrib/bench-cri.sh

critest: build ## critest v1.37.0 on ../shared/cri-harness against a private corrald: CRITEST_RUNTIME (runc), CRITEST_WORK, CRITEST_ARGS (root)
	contrib/critest.sh $(or $(CRITEST_RUNTIME),runc)

demo: setup build ## install, build, start a private corrald and run containers through it
	contrib/demo.sh

bench: build ## performance figures (docs/performance.md, docs/cri.md): runtimes, images, then the CRI
	contrib/bench.sh
	contrib/bench-images.sh
	contrib/bench-cri.sh

clean: ## remove build output
	rm -rf bin
