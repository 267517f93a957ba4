# mvirt-net: `make run` starts the daemon on local defaults, `make test`
# installs what the tests need and runs them all.

GO            ?= go
BIN           := bin
RUN_DIR       := .run
TOOLS         := $(CURDIR)/.bin
PROTOC_GEN_GO_VERSION      := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.5.1
STATICCHECK_VERSION        := v0.8.2

PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
# A count, not a duration: Go 1.26 fails a -fuzztime duration now and then
# with a bare "context deadline exceeded" at its end (golang/go#75804).
FUZZTIME    ?= 20000x

# The rootless tier: every package outside tests/, and tests/vmm (the
# simulated VMM, a library with unit tests of its own); every other
# package under tests/ runs the daemon.
UNIT_PKGS = $(shell $(GO) list ./... | grep -v '/tests/') mvirt-net/tests/vmm
INTEGRATION_PKGS = $(shell $(GO) list ./tests/... | grep -v -E '/tests/vmm$$')

.PHONY: all build run test check deps lint proto clean bench bench-scale install

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/...

run: build
	mkdir -p $(RUN_DIR)/sockets $(RUN_DIR)/data
	./$(BIN)/mvirt-net --socket-dir $(RUN_DIR)/sockets --metadata-dir $(RUN_DIR)/data $(ARGS)

# deps installs the Debian packages the tests need (QEMU, DPDK, ...).
deps:
	./tests/setup/install-deps.sh

# test is check, then every test that runs the daemon (API, CLI, data
# plane with the simulated VMM, DPDK, real guests in QEMU), with -race.
test: deps build check
	$(GO) test -race -count=1 -timeout 30m $(INTEGRATION_PKGS)

# check is the rootless tier: lint (gofmt, vet, staticcheck), the unit
# tests without and with -race, and every fuzz target for FUZZTIME executions. The
# run without -race is where the inbox's park / wake stress tests count:
# -race would make every store sequentially consistent and hide the
# reordering they guard against.
check: lint
	$(GO) test -count=1 $(UNIT_PKGS)
	$(GO) test -race -count=1 $(UNIT_PKGS)
	FUZZTIME=$(FUZZTIME) ./tests/setup/fuzz-smoke.sh

# install puts the binaries, the systemd unit (ExecStart pointing at
# BINDIR) and its sysusers.d entry under DESTDIR/PREFIX.
install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	install -m 0755 $(BIN)/mvirt-net $(BIN)/mvirt $(DESTDIR)$(BINDIR)/
	sed 's|/usr/local/bin/|$(BINDIR)/|' cmd/mvirt-net/mvirt-net.service > $(DESTDIR)$(UNITDIR)/mvirt-net.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/mvirt-net.service
	install -m 0644 cmd/mvirt-net/mvirt-net.sysusers $(DESTDIR)$(SYSUSERSDIR)/mvirt-net.conf
	@echo "installed; then: systemd-sysusers && systemctl daemon-reload && systemctl enable --now mvirt-net"

# bench measures VM-to-VM throughput, latency and idle cost of the daemon
# (built without -race) side by side with dpdk-testpmd's vhost PMD, all
# driven by the simulated-VMM harness; the same VM-to-VM runs through a
# second daemon on huge pages (mvbench -hugepages, on by default) and with
# a security group of 100 rules; allocations per routed and filtered frame;
# in a network namespace of its own, frames NIC -> uplink -> kernel ->
# uplink -> NIC; and, in two namespaces of its own joined by veth, UDP from
# a public NIC through the uplink to a socket outside and back (mvbench
# -uplink, BENCH uplink lines); 64 KiB TCP super-frames passed through and
# segmented, beside testpmd with tso=1 (mvbench -tso, BENCH tso lines);
# TCP between two QEMU guests through ours with and without offloads and
# through testpmd (mvbench -guest-tcp, BENCH guest_tcp). It takes about 9
# minutes and is not part of test.
# BENCH_ARGS passes flags (go run ./tests/bench/cmd/mvbench -h).
bench: deps
	mkdir -p $(RUN_DIR)
	$(GO) run ./tests/bench/cmd/mvbench -pprof $(RUN_DIR)/bench-daemon.pprof $(BENCH_ARGS)
	$(GO) test -count=1 -run 'TestRoutedFrameAllocatesNothing|TestFilteredRoutedFrameAllocatesNothing' -bench 'RoutedFrame|FilteredFrame' -benchmem ./reactor/ | tee $(RUN_DIR)/bench-allocs.txt
	awk '/^Benchmark(RoutedFrame|FilteredFrame)/ { if ($$(NF-1) > m) m = $$(NF-1) } END { print "BENCH allocs_per_packet=" m+0 }' $(RUN_DIR)/bench-allocs.txt
	$(GO) test -count=1 -run '^$$' -bench UplinkPath -benchmem ./reactor/ | tee $(RUN_DIR)/bench-uplink.txt

# bench-scale measures the daemon with 1024 NICs: CreateNic latency and
# rate at concurrency 1 and 32, RSS, threads, fds and idle CPU with the
# NICs created and connected (simulated-VMM frontends), and the start time
# with them in the store; about a minute. SCALE_ARGS passes flags (go run
# ./tests/scale/cmd/mvscale -h).
bench-scale:
	$(GO) run ./tests/scale/cmd/mvscale $(SCALE_ARGS)

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
