# Kumo: `make dev` starts a working cloud, `make test` runs every test.
GO ?= go
BIN := bin/kumo
DATA ?= ./data

.PHONY: all build dev test bench generate docs fmt vet clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/kumo

## dev: install what is missing, build, and run kumo dev with SQLite in $(DATA)
dev:
	scripts/deps.sh
	$(GO) build -o $(BIN) ./cmd/kumo
	$(BIN) dev --data-dir $(DATA)

## test: everything CI runs (installs PostgreSQL and awscli when missing)
test:
	scripts/test.sh

## bench: API throughput through real HTTP and SigV4
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
