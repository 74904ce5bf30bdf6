# Thumbnailer: `make help` lists every target.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Node.js 24 first on PATH, for the targets that run node only (downloaded
# once into ~/.cache/thumbnailer when the machine's node is older). The
# recursive `=` defers the download until one of those targets runs, so
# `make support-bundle` and the cluster targets never need it.
ORIGINAL_PATH := $(PATH)
NODE_DIR = $(shell hack/node-path.sh)
NODE_TARGETS = install build lint format test chart-test support-bundle-test bench bench-runner bench-upload bench-reads
$(NODE_TARGETS): export PATH = $(NODE_DIR):$(ORIGINAL_PATH)

##@ General

.PHONY: help
help: ## List the targets with a line on each.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z0-9_-]+:.*##/ { printf "  \033[36m%-20s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: install
install: ## Install the npm dependencies from package-lock.json.
	npm ci

.PHONY: build
build: ## Compile the TypeScript of api/ and runner/ into dist/.
	npm run build

.PHONY: lint
lint: ## Run eslint, the prettier check and shellcheck.
	npm run lint
	shellcheck -x .ci/run hack/*.sh

.PHONY: format
format: ## Rewrite the sources with prettier.
	npm run format

.PHONY: test
test: build ## Run the unit and integration tests (mocha).
	npx mocha
	@# nock intercepts every HTTP request of the process once loaded, so its tests run on their own.
	npx mocha --no-config --node-option import=tsx --timeout 20000 'api/test/nock/**/*.test.ts'

.PHONY: clean
clean: ## Remove build output.
	rm -rf api/dist runner/dist

##@ Images

# Prefix of the image names, e.g. registry.example.com/team (empty: local names).
REGISTRY ?=
# Image tag: the chart's appVersion, so the chart's defaults find the images.
TAG ?= $(shell sed -n 's/^appVersion:[[:space:]]*"\{0,1\}\([^"]*\)"\{0,1\}[[:space:]]*$$/\1/p' chart/Chart.yaml)
# PEM file of extra CA certificates for npm inside the build (behind a
# TLS-inspecting proxy). It defaults to $NODE_EXTRA_CA_CERTS when that file exists.
CA_BUNDLE ?= $(if $(wildcard $(NODE_EXTRA_CA_CERTS)),$(NODE_EXTRA_CA_CERTS),)
# kind cluster that kind-load loads the images into.
KIND_CLUSTER ?= thumbnailer
IMAGES_ENV = REGISTRY="$(REGISTRY)" TAG="$(TAG)" CA_BUNDLE="$(CA_BUNDLE)" KIND_CLUSTER="$(KIND_CLUSTER)"

.PHONY: images
images: ## Build thumbnailer-api and thumbnailer-runner for this machine's architecture (REGISTRY, TAG, CA_BUNDLE).
	$(IMAGES_ENV) hack/images.sh build

.PHONY: kind-load
kind-load: ## Load both images into the kind cluster KIND_CLUSTER.
	$(IMAGES_ENV) hack/images.sh kind-load

.PHONY: push
push: ## Push both images to REGISTRY.
	$(IMAGES_ENV) hack/images.sh push

.PHONY: base-image
base-image: ## Build the Node.js base image locally from Debian packages and the npm registry (no container registry needed).
	hack/base-image.sh

.PHONY: test-images
test-images: ## Build both images from a clean clone and test them under the cluster's security settings.
	$(IMAGES_ENV) hack/test-images.sh

##@ Chart

# helm: the helm 3 or 4 on PATH, else helm v4.3.2 built once by hack/helm-path.sh
# into ~/.cache/thumbnailer/bin. Expanded only by the targets that use it. The
# chart's mocha tests run hack/helm-path.sh themselves, so `make test` finds
# helm without this.
HELM ?= $(shell hack/helm-path.sh)/helm
CHART_VALUE_SETS = $(wildcard chart/ci/*-values.yaml)
CHART_MOCHA = npx mocha --no-config --node-option import=tsx --timeout 20000

.PHONY: chart-lint
chart-lint: ## Run helm lint --strict on the chart with its default values and with each chart/ci/*-values.yaml.
	@helm="$(HELM)"; for values in "" $(CHART_VALUE_SETS); do echo "helm lint --strict chart $${values:+--values $$values}"; "$$helm" lint --strict --quiet chart $${values:+--values "$$values"}; done

.PHONY: chart-test
chart-test: ## Run only the chart's tests (helm template and the helm test's smoke script).
	$(CHART_MOCHA) 'chart/tests/**/*.test.ts'

##@ Install

# Where `make up` installs: kind (create the kind cluster KIND_CLUSTER if it
# does not exist), local (the cluster of `make cluster-up`), or current
# (kubectl's current context, images pulled from REGISTRY).
CLUSTER ?= kind
NAMESPACE ?= thumbnails
RELEASE ?= thumbnailer
UP_ENV = CLUSTER="$(CLUSTER)" KIND_CLUSTER="$(KIND_CLUSTER)" NAMESPACE="$(NAMESPACE)" RELEASE="$(RELEASE)"

.PHONY: up
up: ## Cluster if none, images, load, namespace enforcing restricted, helm install, wait (CLUSTER=kind|local|current).
	$(UP_ENV) hack/up.sh

.PHONY: down
down: ## Uninstall, remove the Jobs, the claim and the namespace, and the kind cluster if make up made it.
	$(UP_ENV) hack/down.sh

##@ End to end

.PHONY: e2e
e2e: ## Install the chart into a real cluster (E2E_CLUSTER=local|kind|current) and run the whole flow through the Service.
	hack/e2e.sh

##@ Cluster

# Images that `make cluster-load` copies from Docker into the cluster,
# separated by spaces.
IMAGES ?=

.PHONY: cluster-up
cluster-up: ## Start a one-node Kubernetes cluster on this machine (root; the first run builds it, about 15 minutes).
	hack/cluster-up.sh

.PHONY: cluster-down
cluster-down: ## Stop the cluster and remove all it made; the built binaries stay in the cache.
	hack/cluster-down.sh

.PHONY: cluster-smoke
cluster-smoke: ## Check the cluster: claim, non-root pod, Service by DNS name, Pod Security, Job Complete.
	hack/cluster-smoke.sh

.PHONY: cluster-load
cluster-load: ## Copy Docker images into the cluster's containerd: make cluster-load IMAGES="a:tag b:tag".
	hack/cluster-load-image.sh $(IMAGES)

##@ Support

# support-bundle reads the Helm release RELEASE in NAMESPACE (the same
# variables as make up) and writes its archive into the folder OUT, with the
# logs of the FAILED_RUNNERS newest failed runner pods.
NAMESPACE ?= thumbnails
RELEASE ?= thumbnailer
OUT ?= .
FAILED_RUNNERS ?= 20
SUPPORT_ENV = NAMESPACE="$(NAMESPACE)" RELEASE="$(RELEASE)" OUT="$(OUT)" FAILED_RUNNERS="$(FAILED_RUNNERS)" HELM="$(HELM)"

.PHONY: support-bundle
support-bundle: ## Write one archive for a bug report (NAMESPACE, RELEASE, OUT): objects, events, logs, readiness, metrics, summary; no images or file names.
	$(SUPPORT_ENV) hack/support-bundle.sh

.PHONY: support-bundle-test
support-bundle-test: ## Test the support bundle's summary and scrub check on recorded files, without a cluster.
	$(CHART_MOCHA) 'hack/test/**/*.test.ts'

.PHONY: support-bundle-e2e
support-bundle-e2e: ## Take a bundle on the current cluster after secret-named uploads and a broken runner image, and check it (TEST_NAMESPACE).
	HELM="$(HELM)" hack/test-support-bundle.sh

##@ Benchmarks

BENCH_NODE = node --import tsx

.PHONY: bench
bench: bench-runner bench-upload bench-reads ## Run every benchmark and print its tables; raw numbers go to bench/results/ (about 4 minutes on 2 cores).

.PHONY: bench-runner
bench-runner: build ## Time the runner against bare sharp (and vipsthumbnail), with its start and peak memory per image.
	$(BENCH_NODE) bench/runner.bench.ts

.PHONY: bench-upload
bench-upload: build ## Time uploads to the API against a bare node:http server, and the API's peak memory.
	$(BENCH_NODE) bench/upload.bench.ts

.PHONY: bench-reads
bench-reads: build ## Time reads with 10,000 cached jobs against a constant endpoint, and the cache's memory.
	$(BENCH_NODE) bench/reads.bench.ts

.PHONY: bench-e2e
bench-e2e: ## Time jobs end to end on the cluster of make cluster-up (root; not in make bench): one job, then 50 at once.
	PATH="$$(hack/node-path.sh):$$PATH" $(BENCH_NODE) bench/e2e.bench.ts
