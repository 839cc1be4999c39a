# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# teeshm-trace build.
#   make                 -> build/teeshm-trace          (native x86_64)
#   make ARCH=arm64      -> build/arm64/teeshm-trace    (static, for boards/testbed)
#   make test            -> every test (unit, replay, CLI, testbed)
#   make testbed         -> the QEMU testbed (secure worlds, initramfs)
#   make testbed-test    -> the testbed scenarios only
#   make testbed-systemd-ffa -> systemctl kexec on 7.3 over FF-A (systemd guest)
#   make demo [KERNEL=6.1|5.10|6.12|7.3] -> trace, kexec, report on real OP-TEE
#   make kexec-matrix-full -> 10 kexecs per subject on every kernel (README)
#   make install         -> PREFIX (/usr/local), DESTDIR honoured
#   make deb             -> build/deb/teeshm-trace_*.deb (DEB_ARCH=arm64: cross)

# V=1 shows every command; quiet by default (one line per step)
ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# a recipe that fails leaves no half-written target behind
.DELETE_ON_ERROR:

# A user's PATH on Debian has no sbin: the checks call modinfo, modprobe,
# depmod from there (as root they were found; as a sudo user they were not)
export PATH := $(PATH):/usr/local/sbin:/usr/sbin:/sbin

HOSTARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
ARCH ?= $(HOSTARCH)

ifeq ($(ARCH),x86)
OUT := build
CC := gcc
AR := ar
else ifeq ($(ARCH),arm64)
OUT := build/arm64
CC := aarch64-linux-gnu-gcc
AR := aarch64-linux-gnu-ar
STATIC := 1
else
$(error ARCH must be x86 or arm64)
endif

CLANG ?= $(shell command -v clang-16 || command -v clang-15 || command -v clang)
BPFTOOL ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
LLVM_STRIP ?= $(shell command -v llvm-strip-16 || command -v llvm-strip || echo true)

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

CFLAGS_BASE := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	-Iinclude -Isrc -Isrc/live -Isrc/lib -I$(OUT)
# each object's own header dependencies, written beside it (.d)
DEPFLAGS = -MMD -MP
CFLAGS ?=
CFLAGS += $(CFLAGS_BASE) -DTEESHM_VERSION='"$(VERSION)"'
LDFLAGS ?=
ifeq ($(STATIC),1)
LDFLAGS += -static
LIBS := -lbpf -lelf -lz -lzstd
else
LIBS := -lbpf -lelf -lz
endif

# The pairing engine: a library with no libbpf dependency.
LIB_SRCS := $(sort $(wildcard src/lib/*.c))
LIB_OBJS := $(patsubst src/lib/%.c,$(OUT)/lib/%.o,$(LIB_SRCS))
LIB := $(OUT)/libteeshm.a

# The command line: the verbs (src/) above the live-side modules (src/live/).
CLI_SRCS := $(sort $(wildcard src/*.c src/live/*.c))
CLI_OBJS := $(patsubst src/%.c,$(OUT)/cli/%.o,$(CLI_SRCS))

BPF_SRC := bpf/teeshm.bpf.c
BPF_OBJ := $(OUT)/teeshm.bpf.o
SKEL := $(OUT)/teeshm.skel.h
VMLINUX := vmlinux/$(ARCH)/vmlinux.h

.PHONY: all clean test unit-test replay-test cli-test testbed testbed-test testbed-systemd-ffa \
	install bench bench-fuzz demo kexec-matrix kexec-matrix-full fuzz-test kernel-check optee-check export-test \
	replay-arm64-test deb package-test prom-test

all: $(OUT)/teeshm-trace

$(OUT)/lib/%.o: src/lib/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(BPF_OBJ): $(BPF_SRC) $(VMLINUX)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -mcpu=v3 \
		-Iinclude -Ivmlinux/$(ARCH) -Ibpf $(DEPFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(SKEL): $(BPF_OBJ)
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name teeshm_bpf > $@

# (the skeleton first: the .d files know who includes it after one build)
$(OUT)/cli/%.o: src/%.c | $(SKEL)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(OUT)/teeshm-trace: $(CLI_OBJS) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIB) $(LIBS)

# ---------------------------------------------------------------- tests
# Unit tests (cmocka) run natively with ASan/UBSan over the engine library.
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
UT_OUT := build/san
UT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UT_BINS := $(patsubst tests/unit/%.c,$(UT_OUT)/%,$(UT_SRCS))
UT_LIB_OBJS := $(patsubst src/lib/%.c,$(UT_OUT)/lib/%.o,$(LIB_SRCS))

$(UT_OUT)/lib/%.o: src/lib/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)gcc $(CFLAGS_BASE) $(SAN) $(DEPFLAGS) -c $< -o $@

$(UT_OUT)/test_%: tests/unit/test_%.c $(UT_LIB_OBJS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)gcc $(CFLAGS_BASE) $(SAN) $(DEPFLAGS) -Itests/unit -o $@ $< $(UT_LIB_OBJS) -lcmocka

.SECONDARY:

unit-test: $(UT_BINS)
	@tests/run-group.sh unit --each $(UT_BINS)

replay-test: build/teeshm-trace
	@tests/run-group.sh replay tests/replay/run.sh build/teeshm-trace

# the arm64 build (no SSE2) under qemu-user: golden tests, and the same
# output as the x86_64 build on a generated trace, whole and damaged
replay-arm64-test: build/teeshm-trace
	$(MAKE) ARCH=arm64 all
	@tests/run-group.sh replay-arm64 tests/replay/arm64.sh build/teeshm-trace build/arm64/teeshm-trace

cli-test: build/teeshm-trace
	@tests/run-group.sh cli tests/cli/run.sh build/teeshm-trace

# export (promtool, node_exporter, HTTP), make install, bash completion
export-test: build/teeshm-trace
	@tests/run-group.sh export tests/export/run.sh build/teeshm-trace

# the Prometheus alerting rules (dist/prometheus): promtool check and
# unit tests, and the alerts on the tool's real export
prom-test: build/teeshm-trace
	@tests/run-group.sh prometheus tests/prometheus/run.sh build/teeshm-trace

# libFuzzer over the JSONL reader/writer and the engine (clang)
FUZZ_CC ?= $(shell command -v clang-16 || command -v clang)
FUZZ_RUNS ?= 200000
# (several sources in one command: the headers are listed by hand)
LIB_HDRS := $(wildcard src/lib/*.h include/*.h)
build/fuzz/fuzz_jsonl: tests/fuzz/fuzz_jsonl.c $(LIB_SRCS) $(LIB_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) -std=gnu11 -g -O1 -D_GNU_SOURCE -Iinclude -Isrc/lib \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ $< $(LIB_SRCS)

fuzz-test: build/fuzz/fuzz_jsonl
	@tests/run-group.sh fuzz tests/fuzz/run.sh build/fuzz/fuzz_jsonl $(FUZZ_RUNS)

testbed:
	$(MAKE) -C tests/testbed

# KERNEL=6.1 (default), 5.10, 6.12 or 7.3: the Debian kernel the demo boots;
# only its image is built
KERNEL ?= 6.1
demo: all
	$(MAKE) -C tests/testbed demo KERNEL=$(KERNEL)
	@TESTBED_KERNEL=$(KERNEL) tests/testbed/demo.sh

# the project's OP-TEE patches: OP-TEE's checkpatch settings, clean apply
optee-check: testbed
	@tests/run-group.sh optee tests/testbed/optee/check.sh

testbed-test: testbed
	@tests/run-group.sh testbed tests/testbed/run-scenarios.sh

# Scenario 15: `systemctl kexec` in the systemd guest on 7.3 over FF-A with
# Debian's tee-supplicant.service (tests/testbed/README.md); not in make
# test (the CI budget)
testbed-systemd-ffa:
	$(MAKE) -C tests/testbed optee-ffa image-systemd-7.3
	@TESTBED_KERNELS=7.3-systemd-ffa tests/run-group.sh testbed-systemd-ffa \
		tests/testbed/run-scenarios.sh

# The kernel patches: checkpatch --strict, clean apply, out-of-tree builds
# (6.1, 5.10, 6.12 and 7.3; 6.12's and 7.3's cached), vermagic and
# modversions against Debian's
kernel-check:
	@tests/run-group.sh kernel kernel/check.sh

# The kexec truth check: KEXECS kexecs per subject, on 6.1 and 5.10, on
# real OP-TEE (TESTBED_SW=emu: the emulated secure world); make test runs 3.
# kexec-matrix-full: 10 kexecs per subject on every kernel (5.10, 6.1, 6.12,
# 7.3), 7.3 on the FF-A secure world (7.3-ffa) and 7.3's other TEE clients
# (7.3-clients, kernel/AUDIT-7.3.md): the README's figures.
KEXECS ?= 10
kexec-matrix: testbed
	@tests/run-group.sh kexec-matrix tests/testbed/kexec-matrix.sh $(KEXECS)

kexec-matrix-full: testbed
	@TESTBED_KERNELS="6.1 5.10 6.12 7.3 7.3-ffa 7.3-clients" tests/run-group.sh kexec-matrix-full \
		tests/testbed/kexec-matrix.sh 10

TEST_KEXECS ?= 3
# Every group runs, whether an earlier one failed or not (a failure must
# not hide the next group's); one whose make fails before or without its
# counts is named in build/test-broken and counted as a failure by --total.
TEST_GROUPS = unit-test replay-test replay-arm64-test cli-test export-test \
	prom-test package-test fuzz-test kernel-check optee-check \
	testbed-test kexec-matrix
test:
	@rm -f build/test-totals build/test-broken
	$(MAKE) ARCH=x86 all
	$(MAKE) ARCH=arm64 all
	@for g in $(TEST_GROUPS); do \
		$(MAKE) $$g KEXECS=$(TEST_KEXECS) || echo $$g >>build/test-broken; \
	done
	@tests/run-group.sh --total

# ------------------------------------------------------------ benchmarks
# Not tests: figures go to bench/RESULTS.md (see there for how to reproduce).
bench: all build/bench/memory
	bench/replay.sh
	build/bench/memory
	bench/overhead.sh

# user-space bytes per tracked buffer (the kernel's: bench/overhead.sh)
build/bench/memory: bench/memory.c $(LIB_SRCS) $(LIB_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)gcc $(CFLAGS_BASE) -o $@ bench/memory.c $(LIB_SRCS)

bench-fuzz: build/fuzz/fuzz_jsonl
	bench/fuzz.sh build/fuzz/fuzz_jsonl 10000000

# ------------------------------------------------------------- install
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
SHUTDOWNDIR ?= $(PREFIX)/lib/systemd/system-shutdown

install: $(OUT)/teeshm-trace
	install -D -m 0755 $(OUT)/teeshm-trace $(DESTDIR)$(SBINDIR)/teeshm-trace
	install -D -m 0644 man/teeshm-trace.8 $(DESTDIR)$(MANDIR)/man8/teeshm-trace.8
	install -D -m 0644 dist/bash-completion/teeshm-trace \
		$(DESTDIR)$(BASHCOMPDIR)/teeshm-trace
	install -D -m 0644 dist/teeshm-trace.conf \
		$(DESTDIR)$(SYSCONFDIR)/teeshm-trace.conf.sample
	@mkdir -p $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SHUTDOWNDIR)
	for u in teeshm-trace-agent.service teeshm-trace-kexec-check.service; do \
		sed 's|@SBINDIR@|$(SBINDIR)|g' dist/systemd/$$u \
			>$(DESTDIR)$(UNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	sed 's|@SBINDIR@|$(SBINDIR)|g' dist/systemd/teeshm-trace.shutdown \
		>$(DESTDIR)$(SHUTDOWNDIR)/teeshm-trace
	chmod 0755 $(DESTDIR)$(SHUTDOWNDIR)/teeshm-trace

# ------------------------------------------------------------ packages
# make deb [DEB_ARCH=arm64]: the Debian package (debian/), built by
# dpkg-buildpackage (cross for arm64) in a copy of the tree under
# build/deb, where the .deb, .changes and .buildinfo land too (it writes
# them beside the tree it builds).  Rebuilt when a file of the tree is
# newer than the package (the testbed's systemd guest installs it).
DEB_ARCH ?= $(shell dpkg --print-architecture)
DEB_VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
DEB := build/deb/teeshm-trace_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_TREE := build/deb/tree-$(DEB_ARCH)/teeshm-trace
DEB_INPUTS := $(wildcard $(shell git ls-files -c -o --exclude-standard 2>/dev/null))

deb: $(DEB)

$(DEB): $(DEB_INPUTS)
	$(call msg,DEB,$@)
	$(Q)rm -rf $(dir $(DEB_TREE)) && mkdir -p $(DEB_TREE)
	$(Q)git ls-files -z -c -o --exclude-standard | \
		tar --null -T - --ignore-failed-read -cf - 2>/dev/null | \
		tar -xf - -C $(DEB_TREE)
	$(Q)cd $(DEB_TREE) && dpkg-buildpackage -us -uc -b \
		$(if $(filter-out $(shell dpkg --print-architecture),$(DEB_ARCH)),-a$(DEB_ARCH)) \
		>../build.log 2>&1 || { tail -n 30 ../build.log; exit 1; }
	$(Q)mv $(dir $(DEB_TREE))/*.deb $(dir $(DEB_TREE))/*.changes \
		$(dir $(DEB_TREE))/*.buildinfo build/deb/

# both packages: lintian (no error, no warning but the justified
# overrides), their contents, the units' enabling, the binaries
package-test:
	$(MAKE) deb DEB_ARCH=amd64
	$(MAKE) deb DEB_ARCH=arm64
	@tests/run-group.sh package tests/package/run.sh build/deb

clean:
	rm -rf build

# the header dependencies the compiler wrote (none before the first build)
-include $(wildcard $(OUT)/lib/*.d $(OUT)/cli/*.d $(OUT)/cli/*/*.d $(OUT)/*.d \
	$(UT_OUT)/*.d $(UT_OUT)/lib/*.d)
