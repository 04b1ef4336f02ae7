# jit — see README.md. `make help` lists the targets.
GO      ?= go
PKGS    ?= ./...
BIN     ?= bin/jit

# Go's own bin directory (terraform and actionlint installed by
# scripts/install-tools.sh land there) and the usual Go install location.
export PATH := $(PATH):/usr/local/go/bin:$(shell PATH="$(PATH):/usr/local/go/bin" go env GOPATH 2>/dev/null)/bin

ifeq ($(NO_INSTALL),)
TOOLS := tools
endif

.PHONY: help tools build test test-short lint check-pure fuzz bench tidy-check

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build the jit binary into bin/jit
	$(GO) build -o $(BIN) ./cmd/jit

tools: ## install what make test lacks on a fresh Debian machine (scripts/install-tools.sh; NO_INSTALL=1 skips it)
	scripts/install-tools.sh test

tools-demo:
	scripts/install-tools.sh demo

test: $(TOOLS) lint check-pure ## everything: lint, purity check, all tests (real terraform, PostgreSQL, git, emulator) with -race
	$(GO) test -race -count=1 -timeout 30m $(PKGS)

test-short: ## unit tests only, no real terraform/PostgreSQL
	$(GO) test -short -count=1 $(PKGS)

# actionlint checks the workflows (with shellcheck on their run: scripts when
# shellcheck is on PATH). .ci/run installs it; elsewhere a missing one is a
# skip with a hint, except under CI=true, where it fails.
ACTIONLINT_PKG ?= github.com/rhysd/actionlint/cmd/actionlint@v1.7.12

lint: ## gofmt, go vet, and actionlint over .github/workflows
	@out=$$(gofmt -l cmd controller); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	@al=$$(command -v actionlint || true); \
	if [ -z "$$al" ] && [ -x "$$($(GO) env GOPATH)/bin/actionlint" ]; then al="$$($(GO) env GOPATH)/bin/actionlint"; fi; \
	if [ -z "$$al" ]; then \
		if [ "$$CI" = true ]; then echo "lint: actionlint is not installed (CI=true): install it with go install $(ACTIONLINT_PKG)"; exit 1; fi; \
		echo "lint: actionlint is not installed, so the workflows were not checked; install it with go install $(ACTIONLINT_PKG)"; \
	else \
		command -v shellcheck >/dev/null || echo "lint: shellcheck is not on PATH, so actionlint does not check the run: scripts"; \
		echo "$$al -no-color .github/workflows"; "$$al" -no-color || exit 1; \
	fi

# The pure packages: the decision core and the parsers feeding it.
PURE ?= ./controller/grant ./controller/codeowners ./controller/gitattr ./controller/request ./controller/policy ./controller/template ./controller/render ./controller/reconcile ./controller/trailer ./controller/change ./controller/explain ./controller/internal/counted

check-pure: ## the decision core and parsers import no network, exec, git, GitHub or terraform packages
	@bad=$$($(GO) list -deps $(PURE) | grep -E '^(net/http|os/exec|github.com/google/go-github|github.com/go-git|github.com/hashicorp/terraform-exec)' || true); \
	if [ -n "$$bad" ]; then echo "pure packages ($(PURE)) must not import:"; echo "$$bad"; exit 1; fi

FUZZTIME ?= 30s
# fuzz lists the targets first (from the sources, without compiling) so that
# it can say how long it will take: targets x FUZZTIME, plus compiling.
fuzz: ## run every fuzz target for FUZZTIME each (default 30s; says the count and total first)
	@targets=$$(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' controller | grep -v '/testdata/' | \
		sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)$$#./\1 \2#' | sort -u); \
	n=$$(printf '%s\n' "$$targets" | grep -c .); \
	t='$(FUZZTIME)'; num=$${t%[smh]}; secs=; \
	case "$$num" in ''|*[!0-9]*) ;; *) case "$${t#$$num}" in s) secs=$$num;; m) secs=$$((num*60));; h) secs=$$((num*3600));; esac;; esac; \
	if [ -n "$$secs" ]; then total=$$((n*secs)); \
		echo "fuzz: $$n targets, $(FUZZTIME) each: about $$((total/60))m$$((total%60))s of fuzzing plus compiling; FUZZTIME=5s make fuzz is quicker"; \
	else echo "fuzz: $$n targets, $(FUZZTIME) each"; fi; \
	i=0; printf '%s\n' "$$targets" | while read -r p f; do i=$$((i+1)); \
		echo "fuzz [$$i/$$n] $$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$p || exit 1; \
	done

bench: ## run the benchmarks
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

tidy-check: ## go.mod and go.sum are tidy
	$(GO) mod tidy -diff

.PHONY: demo
demo: $(if $(TOOLS),tools-demo) ## a grant's whole life against jit dev (emulated GitHub, the App, PostgreSQL, terraform), narrated, in about a minute
	$(GO) run ./cmd/jit-demo
