# video-renderer - plain make + pkg-config.
#   make          build/master, build/worker, build/bench-filters
#   make run      install what is missing, build, start the master on http://127.0.0.1:8000
#   make test     install what is missing, build, run every test
#   make asan     the same tests on an AddressSanitizer + UBSan build (build-asan/)
#   make bench    the kernels' vectorisation check, the performance and memory benchmarks
#                 (scripts/check-vec, scripts/bench, scripts/bench-memory)

CC      ?= cc
BUILD   ?= build
PKGS    := libevent jansson sqlite3
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
WEB_FILES  := $(sort $(wildcard master/web/*))

COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/obj/%.o)
WORKER_OBJ := $(WORKER_SRC:%.c=$(BUILD)/obj/%.o)
MASTER_OBJ := $(MASTER_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/web_assets.o
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

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
$(BUILD)/web_assets.c: scripts/embed-web $(WEB_FILES)
	@mkdir -p $(dir $@)
	scripts/embed-web master/web > $@
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

unit: $(UNIT_BIN)

deps:
	@scripts/install-deps

deps-run:
	@scripts/install-deps --run

run: deps-run
	$(MAKE) all
	$(BUILD)/master serve --host 127.0.0.1 --port 8000 --data-dir ./data

test: deps
	$(MAKE) all unit
	tests/run $(BUILD)

asan: deps
	$(MAKE) BUILD=build-asan CC=clang \
	  CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	  LDFLAGS="-fsanitize=address,undefined" all unit
	VR_SANITIZED=1 tests/run build-asan

bench: deps
	$(MAKE) all
	scripts/check-vec
	scripts/bench
	scripts/bench-memory

clean:
	rm -rf build build-asan

.PHONY: all unit deps deps-run run test asan bench clean
-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
