# Thumbnailer: `make help` lists every target.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Node.js 24 first on PATH (downloaded once into ~/.cache/thumbnailer when the
# machine's node is older).
NODE_BIN := $(shell hack/node-path.sh)
export PATH := $(NODE_BIN):$(PATH)

##@ General

.PHONY: help
help: ## List the targets with a line on each.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z0-9_-]+:.*##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: install
install: ## Install the npm dependencies from package-lock.json.
	npm ci

.PHONY: build
build: ## Compile the TypeScript of api/ and runner/ into dist/.
	npm run build

.PHONY: lint
lint: ## Run eslint and the prettier check.
	npm run lint

.PHONY: format
format: ## Rewrite the sources with prettier.
	npm run format

.PHONY: test
test: build ## Run the unit and integration tests (mocha).
	npx mocha

.PHONY: clean
clean: ## Remove build output.
	rm -rf api/dist runner/dist
