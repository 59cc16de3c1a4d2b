# The two commands a new user needs: `make test` and `make run`. Both install what is missing.
GO ?= go
PKGS_RACE := ./...

.PHONY: test run build tools deps vet fuzz bench load clean

test: deps vet
	$(GO) test -race -count=1 -timeout 10m $(PKGS_RACE)

run: build
	./bin/vccserver $(ARGS)

build:
	$(GO) build -o bin/vccserver ./cmd/vccserver

tools:
	$(GO) build -o bin/loadtest ./cmd/loadtest

deps:
	@bash scripts/deps.sh

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

# Short fuzzing runs of every decoder (longer: make fuzz FUZZTIME=10m).
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./signaling -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME)
	$(GO) test ./signaling -run '^$$' -fuzz FuzzCommandData -fuzztime $(FUZZTIME)
	$(GO) test ./media/moh -run '^$$' -fuzz FuzzReadOgg -fuzztime $(FUZZTIME)
	$(GO) test ./gateway -run '^$$' -fuzz FuzzSDP -fuzztime $(FUZZTIME)
	$(GO) test ./gateway -run '^$$' -fuzz FuzzSIPMessage -fuzztime $(FUZZTIME)
	$(GO) test ./gateway -run '^$$' -fuzz FuzzRTPReceive -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./media/audio -run '^$$' -fuzz FuzzJitterBuffer -fuzztime $(FUZZTIME)
	$(GO) test ./record -run '^$$' -fuzz FuzzSink -fuzztime $(FUZZTIME)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./media/... ./signaling ./call ./store ./mcu/...

clean:
	rm -rf bin data
