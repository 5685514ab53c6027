# Kumo: `make dev` starts a working cloud, `make test` runs every test.
GO ?= go
BIN := bin/kumo
DATA ?= ./data
DEMO_IMAGE := $(DATA)/images/demo
# Guests live in network namespaces with taps: the node part of kumo dev needs root.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all build install dev dev-clean test bench generate docs fmt vet clean demo-image test-demo

all: build

build:
	$(GO) build -o $(BIN) ./cmd/kumo

PREFIX ?= /usr/local
## install: build and install kumo to $(PREFIX)/bin (the README's `kumo ...` commands then work as printed)
install: build
	$(SUDO) install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/kumo

## dev: install what is missing, build, and run kumo dev with SQLite in $(DATA) and the demo image
dev:
	scripts/deps.sh
	images/demo/build.sh $(DEMO_IMAGE)
	$(GO) build -o $(BIN) ./cmd/kumo
	$(SUDO) $(BIN) dev --data-dir $(DATA) --demo-image $(DEMO_IMAGE)

## dev-clean: remove every guest, namespace, route, proxy entry and nftables table that kumo dev with $(DATA) left on this host (the data dir is kept)
dev-clean:
	$(GO) build -o $(BIN) ./cmd/kumo
	$(SUDO) $(BIN) dev --reset --data-dir $(DATA)

## demo-image: build the demo guest into $(DATA)/images/demo (does nothing when up to date)
demo-image:
	images/demo/build.sh $(DEMO_IMAGE)

## test-demo: boot the demo image under QEMU TCG and check its console markers
test-demo:
	images/demo/test.sh

## test: everything CI runs (installs PostgreSQL and awscli when missing)
test:
	scripts/test.sh

## bench: API throughput, S3, root-disk creation, boot times (Kumo and bare QEMU)
bench:
	scripts/bench.sh

## generate: regenerate wire shapes from AWS's models, then the coverage doc
generate:
	$(GO) generate ./...
	$(MAKE) docs

docs:
	$(GO) run ./internal/tools/apicoverage > docs/api-coverage.md

fmt:
	gofmt -w cmd internal

vet:
	$(GO) vet ./...

clean:
	rm -rf bin
