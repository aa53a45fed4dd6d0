# convo — see README.md. `make run` starts a local server with the demo; `make test` installs
# what the tests need and runs them all.

GO        ?= go
BIN       := bin
DATA      ?= data
ADDR      ?= 127.0.0.1:8080
WASM      := $(BIN)/convo.wasm
GOFLAGS_WASM := -ldflags='-s -w' -trimpath -gcflags=all=-l -gcflags=runtime=
export PATH := $(shell $(GO) env GOPATH)/bin:$(PATH)

.PHONY: all build server wasm web run test test-deps test-native test-wasm test-web lint bench fuzz soak soak-browser clean

all: build

build: server web

server:
	$(GO) build -o $(BIN)/ ./tools/convod ./tools/convoctl

wasm:
	GOOS=js GOARCH=wasm $(GO) build $(GOFLAGS_WASM) -o $(WASM) ./wasm

web: wasm
	GO=$(GO) web/build.sh $(WASM)

# Starts the server with its embedded SQLite store in $(DATA)/ and the demo page.
run: build
	$(BIN)/convod --dev --addr $(ADDR) --data $(DATA) --web web/dist

test: test-deps lint test-native test-wasm test-web

# Installs Chromium (Debian package), brotli, PostgreSQL, the Go test runners and SeaweedFS's weed
# when they are missing.
test-deps:
	scripts/install-test-deps.sh

# The scale-out tests start their own PostgreSQL, NATS, S3-compatible object store (SeaweedFS)
# and HAProxy on 127.0.0.1; here they must not skip.
test-native:
	CONVO_REQUIRE_POSTGRES=1 CONVO_REQUIRE_S3=1 CONVO_REQUIRE_HAPROXY=1 $(GO) test -count=1 -timeout 15m ./...

# jsapi runs compiled to js/wasm inside headless Chromium.
test-wasm:
	GOOS=js GOARCH=wasm $(GO) test -count=1 -timeout 5m -exec wasmbrowsertest ./jsapi/...
	GOOS=js GOARCH=wasm $(GO) test -count=1 -timeout 5m -exec wasmbrowsertest -run 'IndexedDB' ./core

# The npm package: packs, installs into a scratch folder, type-checks a vendor-style app (ES
# module and CommonJS) and runs it in plain Node 20 through import and require. The browser side
# (the React app in web/apps built with Vite and webpack, the script tag) is in web/e2e, which
# test-native runs.
test-web: web
	scripts/test-npm-package.sh

lint:
	@bad=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$bad" ]; then echo "gofmt needed: $$bad"; exit 1; fi
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./core/... ./jsapi/... ./wasm/...
	staticcheck ./...
	GOOS=js GOARCH=wasm staticcheck ./core/... ./jsapi/... ./wasm/...

# Prints size, speed and memory figures (bin/bench.json, plotted in bin/bench.html); see README.
# Never part of `make test`.
bench: web
	scripts/install-test-deps.sh
	$(GO) run ./tools/benchreport -wasm $(WASM) -out $(BIN)/bench.json

# Runs every fuzz target for FUZZTIME each (package:FuzzName pairs below). `go test` alone
# replays the committed seeds in testdata/fuzz/; a crasher found here is written there too.
# Never part of `make test`.
FUZZTIME ?= 30s
FUZZ_TARGETS := ./wire:FuzzDecode ./wire:FuzzCodecDecode ./server:FuzzServerFrame ./server/auth:FuzzVerify \
	./core:FuzzParseTokenClaims ./core:FuzzHandleEvent ./server:FuzzSanitizeFilename ./server:FuzzCheckAttributes \
	./server/bus:FuzzDecodeMessage ./core:FuzzDecodeMessageAdded

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $${t#*:} ($${t%%:*}, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) "$${t%%:*}"; \
	done

# A bounded soak: convod and 20 native clients chatting at SOAK_RATE messages/s over loopback
# for SOAK_DURATION, sampling memory and goroutines on both sides; fails on growth after the
# warm-up or on any lost, repeated or unacknowledged message. Never part of `make test`.
SOAK_DURATION ?= 30m
SOAK_RATE     ?= 50

soak: server
	$(GO) run ./tools/soak -convod $(BIN)/convod -duration $(SOAK_DURATION) -rate $(SOAK_RATE)

# A browser soak: one page sending and receiving at 20 messages/s for SOAK_BROWSER_DURATION
# against the real server; fails on a lost or repeated message, or on wasm memory or JS heap
# growth after the warm-up (web/e2e/soak_browser_test.go). Never part of `make test`.
SOAK_BROWSER_DURATION ?= 10m

soak-browser: test-deps web
	CONVO_SOAK_BROWSER=1 CONVO_SOAK_BROWSER_DURATION=$(SOAK_BROWSER_DURATION) \
		$(GO) test -count=1 -v -timeout 2h -run '^TestSoakBrowser$$' ./web/e2e

clean:
	rm -rf $(BIN) web/dist
