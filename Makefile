# Patchbay's everyday commands. `make` (or `make help`) lists them; every
# target with a `## comment` on its line shows up there.

GO      ?= go
BIN     ?= bin/patchbay
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

# Packages whose tests need PostgreSQL: those whose tests import pgtest.
PGTEST  := github.com/patchbay/patchbay/internal/postgres/pgtest

.DEFAULT_GOAL := help

.PHONY: help build test test-postgres lint bench bench-go crashtest run cover clean

help: ## Show this list of targets
	@echo "Usage: make <target>"
	@echo
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z0-9_-]+:.*## / { printf "  %-14s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

build: ## Build a static binary (no cgo) at bin/patchbay
	CGO_ENABLED=0 $(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/patchbay

test: ## Run every test with the race detector (go test -race ./...)
	$(GO) test -race ./...

test-postgres: ## Run only the PostgreSQL-backed tests, with CI=true so they fail instead of skipping
	@pkgs="$$($(GO) list -f '{{.ImportPath}}{{range .TestImports}} {{.}}{{end}}{{range .XTestImports}} {{.}}{{end}}' ./... \
		| awk '$$1 != "$(PGTEST)" && / $(subst /,\/,$(PGTEST))( |$$)/ { print $$1 }')"; \
	if [ -z "$$pkgs" ]; then echo "no package's tests import $(PGTEST)" >&2; exit 1; fi; \
	echo "CI=true $(GO) test -race -count=1" $$pkgs; \
	CI=true $(GO) test -race -count=1 $$pkgs

lint: ## Check formatting (gofmt), run go vet and, when installed, golangci-lint
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@if command -v golangci-lint >/dev/null 2>&1; then \
		echo "golangci-lint run ./..."; golangci-lint run ./...; \
	else \
		echo "note: golangci-lint is not installed; skipped it (go vet and gofmt ran). See .golangci.yaml."; \
	fi

bench: ## Delivery benchmark on SQLite then Postgres (PATCHBAY_TEST_POSTGRES or the local test server); writes bench-results.json
	$(GO) run ./cmd/patchbay bench delivery --out bench-results.json

bench-go: ## Run the Go benchmarks (no tests) with allocation counts
	$(GO) test -run '^$$' -bench . -benchmem ./...

crashtest: ## Kill -9 the server under load, on SQLite then Postgres; fails if an accepted event is lost
	$(GO) run ./cmd/patchbay bench crash --engine sqlite --kills 3 --events 3000
	$(GO) run ./cmd/patchbay bench crash --engine postgres --kills 3 --events 3000

run: ## Run the server on the embedded SQLite default (data in ./patchbay-data)
	$(GO) run ./cmd/patchbay serve

cover: ## Run every test with coverage; writes cover.out and prints the total
	$(GO) test -race -covermode=atomic -coverprofile=cover.out ./...
	@$(GO) tool cover -func=cover.out | tail -n 1
	@echo "Per line: $(GO) tool cover -html=cover.out"

clean: ## Remove build and coverage output (never ./patchbay-data)
	rm -rf bin cover.out bench-results.json
