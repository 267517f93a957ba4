# mvirt-net: `make run` starts the daemon on local defaults, `make test`
# installs what the tests need and runs them all.

GO            ?= go
BIN           := bin
RUN_DIR       := .run
TOOLS         := $(CURDIR)/.bin
PROTOC_GEN_GO_VERSION      := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.5.1
STATICCHECK_VERSION        := v0.8.2

.PHONY: all build run test deps lint proto clean bench

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/...

run: build
	mkdir -p $(RUN_DIR)/sockets $(RUN_DIR)/data
	./$(BIN)/mvirt-net --socket-dir $(RUN_DIR)/sockets --metadata-dir $(RUN_DIR)/data $(ARGS)

# deps installs the Debian packages the tests need (QEMU, DPDK, ...).
deps:
	./tests/setup/install-deps.sh

test: deps build
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...
	# The inbox's park / wake handshakes are stress-tested without -race,
	# which would make every store sequentially consistent and hide the
	# reordering they guard against.
	$(GO) test -count=1 -timeout 5m -run 'TestCommitFlushWakesParkedConsumer|TestReleaseWakesWaitingProducer' ./reactor/inbox/

# bench measures VM-to-VM throughput, latency and idle cost of the daemon
# (and, in a network namespace of its own, frames NIC → uplink → kernel →
# uplink → NIC)
# (built without -race) side by side with dpdk-testpmd's vhost PMD, all
# driven by the simulated-VMM harness, and (mvbench -hugepages, on by default)
# the same VM-to-VM runs through a second daemon on huge pages; it takes about
# 4.5 minutes and is not
# part of test. BENCH_ARGS passes flags (go run ./tests/bench/cmd/mvbench -h).
bench: deps
	mkdir -p $(RUN_DIR)
	$(GO) run ./tests/bench/cmd/mvbench -pprof $(RUN_DIR)/bench-daemon.pprof $(BENCH_ARGS)
	$(GO) test -count=1 -run 'TestRoutedFrameAllocatesNothing|TestFilteredRoutedFrameAllocatesNothing' -bench 'RoutedFrame|FilteredFrame' -benchmem ./reactor/ | tee $(RUN_DIR)/bench-allocs.txt
	awk '/^Benchmark(RoutedFrame|FilteredFrame)/ { if ($$(NF-1) > m) m = $$(NF-1) } END { print "BENCH allocs_per_packet=" m+0 }' $(RUN_DIR)/bench-allocs.txt
	$(GO) test -count=1 -run XXX -bench UplinkPath -benchmem ./reactor/ | tee $(RUN_DIR)/bench-uplink.txt

lint: $(TOOLS)/staticcheck
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(TOOLS)/staticcheck ./...

$(TOOLS)/staticcheck:
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(TOOLS)/protoc-gen-go:
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)

$(TOOLS)/protoc-gen-go-grpc:
	GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)

# protoc comes from Debian's protobuf-compiler package.
proto: $(TOOLS)/protoc-gen-go $(TOOLS)/protoc-gen-go-grpc
	command -v protoc >/dev/null || apt-get install -y protobuf-compiler
	PATH=$(TOOLS):$$PATH protoc --proto_path=rpc/netpb \
		--go_out=rpc/netpb --go_opt=paths=source_relative \
		--go-grpc_out=rpc/netpb --go-grpc_opt=paths=source_relative \
		rpc/netpb/net.proto

clean:
	rm -rf $(BIN) $(RUN_DIR)
