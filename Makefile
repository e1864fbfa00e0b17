# lbd — top-level build.
#
#   make            build lbd, lbctl and the component libraries into build/
#   make deps       install build + test dependencies (Debian packages, idempotent)
#   make check      deps, build, then every test (also under ASan+UBSan)
#   make san        build the sanitizer variant into build-san/
#   make demo       deps, build, run the demo
#   make install    install into $(DESTDIR)$(PREFIX)
#   make clean
#
# NO_DEPS=1 skips the package step (for distributions deps.sh does not know).

VERSION  := 0.1.0
PREFIX   ?= /usr/local
DESTDIR  ?=
SBINDIR  ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
DOCDIR   ?= $(PREFIX)/share/doc/lbd
MANDIR   ?= $(PREFIX)/share/man
UNITDIR  ?= /lib/systemd/system

B        ?= build
SAN      ?= 0
CC       ?= cc
BISON    ?= bison
FLEX     ?= flex

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-unused-parameter -Wvla
CFLAGS   ?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -DLBD_VERSION='"$(VERSION)"' -I. -I$(B) -I$(B)/conf \
            -I/usr/include/libnl3
ALL_CFLAGS = -std=gnu11 $(CFLAGS) $(WARN) -MMD -MP
LDLIBS_LBD = -lev -lssl -lcrypto -lxdp -lbpf -lnl-route-3 -lnl-3 -lpthread -lm
BPF_CLANG ?= clang
BPF_CFLAGS = -O2 -g -target bpf -I/usr/include/$(shell $(CC) -print-multiarch 2>/dev/null || echo x86_64-linux-gnu) -Ilbd/dataplane

ifeq ($(SAN),1)
CFLAGS   := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif

# The fuzzing build: clang, libFuzzer coverage on every object.
ifeq ($(FUZZ),1)
CC       := clang
CFLAGS   := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif

# Generated parser code is not ours to lint; keep it compiling cleanly without -Werror noise.
GEN_CFLAGS = -std=gnu11 $(CFLAGS) -w -MMD -MP

.PHONY: all progs deps check check-unit check-conf check-integration san demo install clean fuzz fuzz-build deb rpm docs-metrics
.DEFAULT_GOAL := all

# ---- components --------------------------------------------------------------
# Each component is a static library of the .c files in its folder. A folder
# with no sources yet simply produces no library (vrrp/, health/, ha-sync/
# arrive with their issues).

CONF_SRCS := $(wildcard conf/*.c)
CONF_GEN  := $(B)/conf/parser.c $(B)/conf/lexer.c
CONF_OBJS := $(CONF_SRCS:%.c=$(B)/%.o) $(CONF_GEN:%.c=%.o)
LIBCONF   := $(B)/conf/libconf.a

ENGINE_SRCS := $(wildcard lbd/engine/*.c)
ENGINE_OBJS := $(ENGINE_SRCS:%.c=$(B)/%.o)
LIBENGINE := $(B)/lbd/engine/libengine.a

BASE_SRCS := $(wildcard lib/*.c)
BASE_OBJS := $(BASE_SRCS:%.c=$(B)/%.o)
LIBBASE   := $(B)/lib/libbase.a

# vrrp/, health/, ha-sync/: a library each (libvrrp.a, libhealth.a,
# libhasync.a) as soon as the folder holds sources; nothing to edit here.
COMPONENTS := vrrp health ha-sync
define COMPONENT_RULES
LIB_$(1) := $(B)/$(1)/lib$(subst -,,$(1)).a
$$(LIB_$(1)): $$(patsubst %.c,$(B)/%.o,$$(wildcard $(1)/*.c))
	@mkdir -p $$(dir $$@)
	$$(AR) rcs $$@ $$^
COMP_LIBS += $$(if $$(wildcard $(1)/*.c),$$(LIB_$(1)))
endef
COMP_LIBS :=
$(foreach c,$(COMPONENTS),$(eval $(call COMPONENT_RULES,$(c))))

LBD_SRCS  := $(filter-out lbd/lbctl.c,$(wildcard lbd/*.c)) $(filter-out %.bpf.c,$(wildcard lbd/dataplane/*.c))
LBD_OBJS  := $(LBD_SRCS:%.c=$(B)/%.o)
LBCTL_OBJS := $(B)/lbd/lbctl.o $(B)/lbd/ctl_list.o

LBD       := $(B)/lbd/lbd
LBCTL     := $(B)/lbd/lbctl

all: $(LBD) $(LBCTL) $(LIBENGINE) $(COMP_LIBS) tests-build

$(B)/conf/parser.c $(B)/conf/parser.h: conf/parser.y
	@mkdir -p $(dir $@)
	$(BISON) -Wall -Werror --defines=$(B)/conf/parser.h -o $(B)/conf/parser.c $<

$(B)/conf/lexer.c $(B)/conf/lexer.h: conf/lexer.l $(B)/conf/parser.h
	@mkdir -p $(dir $@)
	$(FLEX) --header-file=$(B)/conf/lexer.h -o $(B)/conf/lexer.c $<

# Our own conf sources include the generated headers.
$(CONF_SRCS:%.c=$(B)/%.o): $(B)/conf/parser.h $(B)/conf/lexer.h

$(B)/conf/parser.o $(B)/conf/lexer.o: %.o: %.c $(B)/conf/parser.h $(B)/conf/lexer.h
	$(CC) $(CPPFLAGS) -Iconf $(GEN_CFLAGS) -c -o $@ $<

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The BPF programs (the XDP classifier, the TC fast path): BPF C compiled
# with clang, then linked into lbd as bytes (lbd/dataplane/bpf_objs.c) so
# the daemon and its programs match.
CLS_OBJ := $(B)/lbd/dataplane/classifier.bpf.o
FP_OBJ  := $(B)/lbd/dataplane/fastpath.bpf.o
BPF_HDRS := lbd/dataplane/classifier.h lbd/dataplane/classify.bpf.h \
            lbd/dataplane/fastpath.h
$(CLS_OBJ): lbd/dataplane/classifier.bpf.c $(BPF_HDRS)
	@mkdir -p $(dir $@)
	$(BPF_CLANG) $(BPF_CFLAGS) -c -o $@ $<

$(FP_OBJ): lbd/dataplane/fastpath.bpf.c $(BPF_HDRS)
	@mkdir -p $(dir $@)
	$(BPF_CLANG) $(BPF_CFLAGS) -c -o $@ $<

$(B)/lbd/dataplane/bpf_objs.o: lbd/dataplane/bpf_objs.c $(CLS_OBJ) $(FP_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -DLBD_CLS_OBJ='"$(CLS_OBJ)"' \
	    -DLBD_FP_OBJ='"$(FP_OBJ)"' -c -o $@ $<

# The status page, linked into lbd as bytes (lbd/status.c).
$(B)/lbd/status.o: lbd/status.c lbd/status.html
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -DLBD_STATUS_HTML='"lbd/status.html"' \
	    -c -o $@ $<

$(LIBCONF): $(CONF_OBJS)
	$(AR) rcs $@ $^

$(LIBENGINE): $(ENGINE_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(LIBBASE): $(BASE_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(LBD): $(LBD_OBJS) $(COMP_LIBS) $(LIBENGINE) $(LIBCONF) $(LIBBASE)
	$(CC) $(LDFLAGS) -o $@ $(LBD_OBJS) $(COMP_LIBS) $(LIBENGINE) $(LIBCONF) $(LIBBASE) $(LDLIBS_LBD)

$(LBCTL): $(LBCTL_OBJS) $(LIBBASE)
	$(CC) $(LDFLAGS) -o $@ $^

# ---- tests -------------------------------------------------------------------

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:%.c=$(B)/%)

$(B)/tests/unit/%: tests/unit/%.c $(COMP_LIBS) $(LIBENGINE) $(LIBCONF) $(LIBBASE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -DTEST_SRCDIR='"$(CURDIR)/tests"' $(LDFLAGS) -o $@ $< $(COMP_LIBS) $(LIBENGINE) $(LIBCONF) $(LIBBASE) -lcmocka -lev -lssl -lcrypto -lm

# The stats table is the program's (lbd/stats.c), tested on its own.
$(B)/tests/unit/test_stats: tests/unit/test_stats.c $(B)/lbd/stats.o $(COMP_LIBS) $(LIBENGINE) $(LIBBASE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/lbd/stats.o $(COMP_LIBS) $(LIBENGINE) $(LIBBASE) -lcmocka -lssl -lcrypto -lm

# The control plane's view of a backend (lbd/backends.c): admin, health,
# slow-start, with a config to build it from.
$(B)/tests/unit/test_backends: tests/unit/test_backends.c $(B)/lbd/backends.o $(B)/lbd/stats.o $(COMP_LIBS) $(LIBENGINE) $(LIBCONF) $(LIBBASE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -DTEST_SRCDIR='"$(CURDIR)/tests"' $(LDFLAGS) -o $@ $< $(B)/lbd/backends.o $(B)/lbd/stats.o $(COMP_LIBS) $(LIBENGINE) $(LIBCONF) $(LIBBASE) -lcmocka -lssl -lcrypto -lm

# What a cluster node announces (lbd/announce_plan.c), from a config, and
# tells its peers (lbd/cluster_peers.c).
$(B)/tests/unit/test_announce: tests/unit/test_announce.c $(B)/lbd/announce_plan.o $(B)/lbd/cluster_peers.o $(LIBCONF) $(LIBBASE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/lbd/announce_plan.o $(B)/lbd/cluster_peers.o $(LIBCONF) $(LIBBASE) -lcmocka -lm

PACKET_BINS := $(B)/tests/packets/gen $(B)/tests/packets/replay

$(B)/tests/packets/%: tests/packets/%.c tests/packets/pcap.h tests/packets/golden.h tests/packets/tap.h tests/unit/topo.h tests/unit/pktgen.h $(LIBENGINE) $(LIBBASE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Wno-unused-function $(LDFLAGS) -o $@ $< $(LIBENGINE) $(LIBBASE) -lm

# The fast path against the engine (BPF_PROG_TEST_RUN; root).
FP_TEST_OBJS := $(B)/lbd/dataplane/tcprog.o $(B)/lbd/dataplane/bpfmaps.o \
                $(B)/lbd/dataplane/bpf_objs.o $(B)/lbd/dataplane/flows.o
$(B)/tests/packets/fastpath: tests/packets/fastpath.c tests/packets/pcap.h tests/packets/golden.h tests/packets/tap.h tests/unit/topo.h tests/unit/pktgen.h $(FP_TEST_OBJS) $(LIBENGINE) $(LIBBASE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Wno-unused-function $(LDFLAGS) -o $@ $< $(FP_TEST_OBJS) $(LIBENGINE) $(LIBBASE) -lbpf -lm
PACKET_BINS += $(B)/tests/packets/fastpath

tests-build: $(UNIT_BINS) $(PACKET_BINS)
.PHONY: tests-build packets-regen bench-engine bench-memlat bench-health bench-e2e bench-failover bench-vrrp-interop bench-sync bench-workers bench-cluster

# ---- benchmarks (not part of check) ---------------------------------------

$(B)/bench/engine: bench/engine.c tests/unit/topo.h tests/unit/pktgen.h $(LIBENGINE) $(LIBBASE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Wno-unused-function $(LDFLAGS) -o $@ $< $(LIBENGINE) $(LIBBASE) -lm

bench-engine: $(B)/bench/engine
	$(B)/bench/engine

$(B)/bench/sync: bench/sync.c $(B)/lbd/sync_rec.o tests/unit/topo.h tests/unit/pktgen.h $(COMP_LIBS) $(LIBENGINE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/lbd/sync_rec.o $(COMP_LIBS) $(LIBENGINE) $(LIBBASE) -lssl -lcrypto -lpthread -lm

$(B)/bench/memlat: bench/memlat.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $<

bench-memlat: $(B)/bench/memlat
	$(B)/bench/memlat

bench-health: $(LBD) $(LBCTL)
	python3 bench/health.py $(B) $(or $(SECONDS),30)

$(B)/bench/connrate: bench/connrate.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $<

# The peers (haproxy, nftables) and perf are bench-only packages.
# 1 worker against 2 on veths of three queues (iperf3, 4 streams).
bench-workers: $(LBD) $(LBCTL)
ifneq ($(NO_DEPS),1)
	sh packaging/deps.sh bench
endif
	python3 bench/workers.py $(B) $(or $(SECONDS),10)

bench-e2e: $(LBD) $(LBCTL) $(B)/bench/connrate
ifneq ($(NO_DEPS),1)
	sh packaging/deps.sh bench
endif
	python3 bench/e2e.py $(B) $(or $(SECONDS),10)

# Connection sync: the pipeline in memory, then two lbd nodes (SECONDS=10).
bench-cluster: $(LBD) $(LBCTL) $(B)/bench/connrate
	python3 bench/cluster.py $(B)

bench-sync: $(LBD) $(LBCTL) $(B)/bench/sync $(B)/bench/connrate
	python3 bench/sync.py $(B) $(or $(SECONDS),10)

# Failover interruption, lbd against keepalived + HAProxy (ROUNDS=5).
bench-failover: $(LBD) $(LBCTL)
ifneq ($(NO_DEPS),1)
	sh packaging/deps.sh bench
endif
	python3 bench/failover.py $(B) $(or $(ROUNDS),5)

# lbd as keepalived's VRRP peer against keepalived as its own: the client's
# gap at takeover and preemption (ROUNDS=3).
bench-vrrp-interop: $(LBD) $(LBCTL)
ifneq ($(NO_DEPS),1)
	sh packaging/deps.sh bench
endif
	python3 bench/vrrp_interop.py $(B) $(or $(ROUNDS),3)

# Rewrite the golden packet fixtures (review the diff before committing).
packets-regen: $(B)/tests/packets/gen
	rm -f tests/packets/golden/*
	$(B)/tests/packets/gen tests/packets/golden

# ---- fuzzing (tests/fuzz) -------------------------------------------------

FUZZ_BINS := $(B)/tests/fuzz/fuzz_conf $(B)/tests/fuzz/fuzz_frames $(B)/tests/fuzz/fuzz_ctl \
             $(B)/tests/fuzz/fuzz_health $(B)/tests/fuzz/fuzz_sync \
             $(B)/tests/fuzz/fuzz_vrrp
FUZZ_LINK = -fsanitize=fuzzer,address,undefined

$(B)/tests/fuzz/fuzz_conf: tests/fuzz/fuzz_conf.c $(LIBCONF)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(FUZZ_LINK) -o $@ $< $(LIBCONF)

$(B)/tests/fuzz/fuzz_frames: tests/fuzz/fuzz_frames.c tests/unit/topo.h $(LIBENGINE) $(LIBBASE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Wno-unused-function -Wno-unused-variable $(FUZZ_LINK) -o $@ $< $(LIBENGINE) $(LIBBASE) -lm

$(B)/tests/fuzz/fuzz_ctl: tests/fuzz/fuzz_ctl.c $(filter-out $(B)/lbd/main.o,$(LBD_OBJS)) $(COMP_LIBS) $(LIBENGINE) $(LIBCONF) $(LIBBASE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(FUZZ_LINK) -o $@ $< $(filter-out $(B)/lbd/main.o,$(LBD_OBJS)) $(COMP_LIBS) $(LIBENGINE) $(LIBCONF) $(LIBBASE) $(LDLIBS_LBD)

$(B)/tests/fuzz/fuzz_health: tests/fuzz/fuzz_health.c $(COMP_LIBS) $(LIBBASE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(FUZZ_LINK) -o $@ $< $(COMP_LIBS) $(LIBBASE) -lev -lssl -lcrypto

$(B)/tests/fuzz/fuzz_sync: tests/fuzz/fuzz_sync.c $(COMP_LIBS) $(LIBBASE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(FUZZ_LINK) -o $@ $< $(COMP_LIBS) $(LIBBASE) -lssl -lcrypto

$(B)/tests/fuzz/fuzz_vrrp: tests/fuzz/fuzz_vrrp.c $(COMP_LIBS) $(LIBENGINE) $(LIBBASE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(FUZZ_LINK) -o $@ $< $(COMP_LIBS) $(LIBENGINE) $(LIBBASE)

fuzz-bins: $(FUZZ_BINS)
.PHONY: fuzz-bins

fuzz-build:
	$(MAKE) B=build-fuzz FUZZ=1 fuzz-bins

# Each target for FUZZ_TIME seconds (default 60), seeded from the tests'
# own inputs; every crash is kept under build-fuzz/artifacts/.
FUZZ_TIME ?= 60
fuzz: deps fuzz-build
	FUZZ_TIME=$(FUZZ_TIME) bash tests/fuzz/run.sh build-fuzz

deps:
ifneq ($(NO_DEPS),1)
	@sh packaging/deps.sh test
endif

# The full suite: unit tests, config golden files and the daemon integration
# tests against the normal build, then unit and integration tests again under
# ASan+UBSan. tests/run prints one 'N passed, N failed' line at the end.
check: deps
	$(MAKE) all
	$(MAKE) B=build-san SAN=1 all
	$(MAKE) B=build-fuzz FUZZ=1 fuzz-bins
	bash tests/run build build-san build-fuzz

san:
	$(MAKE) B=build-san SAN=1 all

# The operator guide's table of every metric, from lbd's stats table.
docs-metrics: $(LBD) $(LBCTL)
	python3 tests/integration/test_docs.py $(B) --write

demo: deps all
	bash tests/demo/run.sh $(B)

# Just the programs (what the packages build).
progs: $(LBD) $(LBCTL)

# A configuration already in place is never overwritten.
install: $(LBD) $(LBCTL)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DOCDIR)/examples \
	    $(DESTDIR)$(SYSCONFDIR)/lbd/conf.d $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR)
	install -m 0755 $(LBD) $(LBCTL) $(DESTDIR)$(SBINDIR)/
	install -m 0644 conf/examples/*.conf conf/examples/*.bird \
	    conf/examples/*.frr $(DESTDIR)$(DOCDIR)/examples/
	install -m 0600 conf/examples/sync.key $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 README.md SECURITY.md docs/BENCHMARKS.md docs/operator-guide.md docs/ha-sync.md \
	    packaging/grafana-lbd.json $(DESTDIR)$(DOCDIR)/
	install -m 0644 packaging/man/lbd.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 packaging/man/lbd.8 packaging/man/lbctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 packaging/lbd.service $(DESTDIR)$(UNITDIR)/
	test -e $(DESTDIR)$(SYSCONFDIR)/lbd/lbd.conf || \
	    install -m 0644 packaging/lbd.conf $(DESTDIR)$(SYSCONFDIR)/lbd/lbd.conf

# ---- packages ----------------------------------------------------------------
# Both build from a copy of the tracked tree, so the work tree stays clean.

PKGDIR := build/pkg
deb:
	rm -rf $(PKGDIR)/deb && mkdir -p $(PKGDIR)/deb/lbd-$(VERSION)
	git ls-files -z | xargs -0 cp --parents -t $(PKGDIR)/deb/lbd-$(VERSION)
	cp -r packaging/debian $(PKGDIR)/deb/lbd-$(VERSION)/debian
	cd $(PKGDIR)/deb/lbd-$(VERSION) && dpkg-buildpackage -b -us -uc
	@ls -1 $(PKGDIR)/deb/*.deb

rpm:
	rm -rf $(PKGDIR)/rpm && mkdir -p $(PKGDIR)/rpm/SOURCES $(PKGDIR)/rpm/src/lbd-$(VERSION)
	git ls-files -z | xargs -0 cp --parents -t $(PKGDIR)/rpm/src/lbd-$(VERSION)
	tar -C $(PKGDIR)/rpm/src -czf $(PKGDIR)/rpm/SOURCES/lbd-$(VERSION).tar.gz lbd-$(VERSION)
	rpmbuild -bb --nodeps --define "_topdir $(CURDIR)/$(PKGDIR)/rpm" \
	    --define "version $(VERSION)" packaging/rpm/lbd.spec
	@ls -1 $(PKGDIR)/rpm/RPMS/*/*.rpm

clean:
	rm -rf build build-san

-include $(shell find $(B) -name '*.d' -type f 2>/dev/null)
