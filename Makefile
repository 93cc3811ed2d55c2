# video-renderer - plain make + pkg-config.
#   make          build/master, build/worker, build/bench-filters
#   make run      install what is missing, build, start the master on http://127.0.0.1:8000
#   make test     install what is missing, build, run every test
#   make asan     the same tests on an AddressSanitizer + UBSan build (build-asan/)
#   make fuzz     each libFuzzer target for FUZZ_SECONDS (build-fuzz/, clang)
#   make bench    the kernels' vectorisation check, the performance and memory benchmarks
#                 (scripts/check-vec, scripts/bench, scripts/bench-memory)
#   make load     the master under load for longer than the test does (scripts/load)
#   make install  bin/video-renderer (build/master), bin/video-worker (build/worker), their man
#                 pages and an example systemd unit under PREFIX (default /usr/local), in DESTDIR
#   make uninstall  removes what make install put there (same PREFIX and DESTDIR)

CC      ?= cc
BUILD   ?= build
PKGS    := libevent jansson sqlite3 zlib
CFLAGS  ?= -O2 -g
# override: `make CFLAGS=...` (make asan) adds to these instead of replacing them
override CFLAGS += -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes \
           -Wno-unused-parameter -D_GNU_SOURCE -I. -MMD -MP
# gcc warns about error messages that may be cut short; that is what snprintf is for
ifneq ($(findstring clang,$(shell $(CC) --version 2>/dev/null)),clang)
override CFLAGS += -Wno-format-truncation
endif
ifeq ($(CI),true)
override CFLAGS += -Werror
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)
LDLIBS  += $(PKG_LIBS) -lm

COMMON_SRC := $(wildcard common/*.c)
WORKER_SRC := $(filter-out worker/main.c,$(wildcard worker/*.c))
MASTER_SRC := $(filter-out master/main.c,$(wildcard master/*.c))
WEB_FILES  := $(filter-out master/web/vendor,$(sort $(wildcard master/web/*)))
# hls.js from npm (master/web/vendor/, scripts/install-deps), built into the page as hls.js;
# without it the page plays the stream only where the browser plays HLS itself
HLSJS      := $(wildcard master/web/vendor/node_modules/hls.js/dist/hls.light.min.mjs)

COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/obj/%.o)
WORKER_OBJ := $(WORKER_SRC:%.c=$(BUILD)/obj/%.o)
MASTER_OBJ := $(MASTER_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/web_assets.o
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/fuzz/%)
# Fuzz targets are linked with the replay driver (make test); make fuzz empties this and
# links them with libFuzzer's main instead.
FUZZ_MAIN  ?= $(BUILD)/obj/tests/fuzz/replay.o
FUZZ_SECONDS ?= 60
# Left out of make asan to keep CI inside 10 minutes: the slowest tests, whose C the sanitized
# unit tests, fuzz replays and the remaining end-to-end tests already run (the page's
# JavaScript against the same API; long real clips, rotated/10-bit/VFR clips and every filter
# through the same paths as the generated ones; wrk's load, whose timing the sanitizer skews;
# the quota's and limits' paths, unit-tested; memory and vectorisation checks, meaningless
# under ASan; the benchmark script's own check; make install's packaging, whose programs the
# other tests run; the real Slurm's, whose master-side paths - remote launchers, a killed worker
# replaced, serve with remote workers only - test_remote.sh runs through ssh, and whose
# Slurm-specific C, the srun command, unit/test_slurm checks). `make asan ASAN_SKIP=` runs
# everything.
ASAN_SKIP  ?= browser/ e2e/test_cli_real.sh e2e/test_cli_media.sh e2e/test_filters.sh \
              e2e/test_load.sh e2e/test_api_limits.sh e2e/test_memory.sh e2e/test_vec.sh \
              e2e/test_bench.sh e2e/test_install.sh e2e/test_slurm.sh
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/video-renderer
# what make install puts where: source:destination, relative to DESTDIR
INSTALL_BIN := $(BUILD)/master:$(BINDIR)/video-renderer $(BUILD)/worker:$(BINDIR)/video-worker
INSTALL_MAN := master/video-renderer.1:$(MANDIR)/man1/video-renderer.1 \
               worker/video-worker.1:$(MANDIR)/man1/video-worker.1
INSTALL_UNIT := $(DOCDIR)/video-renderer.service
# Sub-makes build with every core: the build is a good part of make test's time.
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

all: $(BUILD)/master $(BUILD)/worker $(BUILD)/bench-filters

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/libcommon.a: $(COMMON_OBJ)
	$(AR) rcs $@ $^
$(BUILD)/libworker.a: $(WORKER_OBJ)
	$(AR) rcs $@ $^
$(BUILD)/libmaster.a: $(MASTER_OBJ)
	$(AR) rcs $@ $^

# The page is built into the binary: each file of master/web/ becomes a byte array.
$(BUILD)/web_assets.c: scripts/embed-web $(WEB_FILES) $(HLSJS)
	@mkdir -p $(dir $@)
	scripts/embed-web master/web $(if $(HLSJS),hls.js=$(HLSJS)) > $@
$(BUILD)/obj/web_assets.o: $(BUILD)/web_assets.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/master: $(BUILD)/obj/master/main.o $(BUILD)/libmaster.a $(BUILD)/libworker.a $(BUILD)/libcommon.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/worker: $(BUILD)/obj/worker/main.o $(BUILD)/libworker.a $(BUILD)/libcommon.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/bench-filters: $(BUILD)/obj/tests/bench/bench_filters.o $(BUILD)/libworker.a $(BUILD)/libcommon.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libmaster.a $(BUILD)/libworker.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CMOCKA_LIBS)

$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_MAIN) $(BUILD)/libmaster.a $(BUILD)/libworker.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

unit: $(UNIT_BIN)
fuzzers: $(FUZZ_BIN)

deps:
	@scripts/install-deps

deps-run:
	@scripts/install-deps --run

run: deps-run
	$(MAKE) all
	$(BUILD)/master serve --host 127.0.0.1 --port 8000 --data-dir ./data

test: deps
	$(MAKE) -j$(JOBS) all unit fuzzers
	tests/run $(BUILD)

asan: deps
	$(MAKE) -j$(JOBS) BUILD=build-asan CC=clang \
	  CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	  LDFLAGS="-fsanitize=address,undefined" all unit fuzzers
	VR_SANITIZED=1 VR_SKIP="$(ASAN_SKIP)" tests/run build-asan

# FUZZ_TARGETS="msg range" picks targets; new crash inputs land in build-fuzz/crashes/NAME/.
fuzz: deps
	$(MAKE) BUILD=build-fuzz CC=clang FUZZ_MAIN= \
	  CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" \
	  LDFLAGS="-fsanitize=fuzzer,address,undefined" fuzzers
	scripts/fuzz build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

bench: deps
	$(MAKE) all
	scripts/check-vec
	scripts/bench
	scripts/bench-memory

load: deps
	$(MAKE) all
	scripts/load

install: $(BUILD)/master $(BUILD)/worker
	@set -e; for f in $(INSTALL_BIN); do \
	  echo "install $${f%%:*} $(DESTDIR)$${f#*:}"; install -D -m 755 "$${f%%:*}" "$(DESTDIR)$${f#*:}"; done; \
	for f in $(INSTALL_MAN); do \
	  echo "install $${f%%:*} $(DESTDIR)$${f#*:}"; install -D -m 644 "$${f%%:*}" "$(DESTDIR)$${f#*:}"; done; \
	echo "install master/video-renderer.service $(DESTDIR)$(INSTALL_UNIT)"; \
	install -d "$(DESTDIR)$(DOCDIR)"; \
	sed 's|@BINDIR@|$(BINDIR)|' master/video-renderer.service > "$(DESTDIR)$(INSTALL_UNIT)"; \
	chmod 644 "$(DESTDIR)$(INSTALL_UNIT)"

uninstall:
	@for f in $(INSTALL_BIN) $(INSTALL_MAN) :$(INSTALL_UNIT); do echo "rm -f $(DESTDIR)$${f#*:}"; rm -f "$(DESTDIR)$${f#*:}"; done
	-@rmdir "$(DESTDIR)$(DOCDIR)" 2>/dev/null || true

clean:
	rm -rf build build-asan build-fuzz

.PHONY: all unit fuzzers deps deps-run run test asan fuzz bench load install uninstall clean
-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
