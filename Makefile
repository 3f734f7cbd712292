# anycast-harness build. Every .c file in lib/ goes into libah.a; each program
# folder builds its main.c against its other files plus libah.a; tests and fuzz
# targets are found by name, so adding a file needs no edit here.

PREFIX  ?= /usr/local
FUZZ_SECONDS ?= 15
DESTDIR ?=
BUILD   ?= build
CC      ?= cc
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

PKGS      := libuv ldns libmnl yaml-0.1
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)

WARN   := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
ifneq ($(CI),)
WARN   += -Werror
endif
OPT    ?= -O2 -g
SAN    ?=
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(SAN) -Iinclude -DAH_VERSION='"$(VERSION)"' \
	$(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL := $(SAN) $(LDFLAGS)
LIBS_ALL := $(PKG_LIBS) -lpthread -lm

LIB_SRCS     := $(wildcard lib/*.c)
SERVER_SRCS  := $(filter-out servers/main.c,$(wildcard servers/*.c))
CLIENT_SRCS  := $(filter-out clients/main.c,$(wildcard clients/*.c))
HARNESS_SRCS := $(filter-out harness/main.c,$(wildcard harness/*.c))
UNIT_SRCS    := $(wildcard tests/unit/test_*.c)
BENCH_SRCS   := $(wildcard bench/*.c)
TOOL_SRCS    := $(wildcard tests/tools/*.c)
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBAH      := $(BUILD)/libah.a
LIBSERVER  := $(BUILD)/libserver.a
LIBCLIENT  := $(BUILD)/libclient.a
LIBHARNESS := $(BUILD)/libharness.a
ALL_LIBS   := $(LIBHARNESS) $(LIBCLIENT) $(LIBSERVER) $(LIBAH)

PROGS := $(BUILD)/anycast-responder $(BUILD)/anycast-probe $(BUILD)/anycast-lab
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
TOOL_BINS  := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRCS))

.PHONY: all responder probe lab unit bench-bins check unit-check integration-check asan fuzz \
	fuzz-smoke install format format-check clean deps demo
.DELETE_ON_ERROR:
# Objects are intermediate in pattern chains; keep them so re-runs rebuild nothing.
.SECONDARY:

all: $(PROGS) $(BENCH_BINS)

responder: $(BUILD)/anycast-responder
probe: $(BUILD)/anycast-probe
lab: $(BUILD)/anycast-lab
unit: $(UNIT_BINS) $(TOOL_BINS)
bench-bins: $(BENCH_BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(CHECK_CFLAGS) -MMD -MP -c $< -o $@

$(LIBAH): $(call obj,$(LIB_SRCS))
$(LIBSERVER): $(call obj,$(SERVER_SRCS))
$(LIBCLIENT): $(call obj,$(CLIENT_SRCS))
$(LIBHARNESS): $(call obj,$(HARNESS_SRCS))
$(ALL_LIBS):
	@mkdir -p $(dir $@)
	rm -f $@
	$(if $^,ar rcs $@ $^,ar rcs $@)

$(BUILD)/anycast-responder: $(call obj,servers/main.c) $(LIBSERVER) $(LIBAH)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_ALL)
$(BUILD)/anycast-probe: $(call obj,clients/main.c) $(LIBCLIENT) $(LIBAH)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_ALL)
$(BUILD)/anycast-lab: $(call obj,harness/main.c) $(LIBHARNESS) $(LIBAH)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_ALL)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(ALL_LIBS) $(LIBS_ALL) $(CHECK_LIBS)

# Small helper programs that integration tests drive (clients, topology tools).
$(BUILD)/tests/tools/%: $(BUILD)/obj/tests/tools/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(ALL_LIBS) $(LIBS_ALL)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(ALL_LIBS) $(LIBS_ALL)

# The whole suite: unit tests, then integration tests (real processes in real
# namespaces; they need root and skip themselves with a message otherwise),
# then a short fuzz run of every fuzz target.
SUITE ?= all
check: all unit $(if $(filter all %fuzz%,$(SUITE)),fuzz)
	AH_BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run.sh $(SUITE)

unit-check: unit
	AH_BUILD=$(BUILD) tests/run.sh unit

integration-check: all
	AH_BUILD=$(BUILD) tests/run.sh integration

asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g" \
		SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		SUITE=unit,integration check

# libFuzzer targets (clang): each links the pure modules it exercises.
FUZZ_CC := clang
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -O1 -g -Iinclude -Iservers $(PKG_CFLAGS) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
fuzz: $(FUZZ_BINS)
$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(SERVER_SRCS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRCS) $(SERVER_SRCS) $(LIBS_ALL)

fuzz-smoke: fuzz
	AH_BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run.sh fuzz

demo: all
	BUILD=$(BUILD) ./demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/

FORMAT_FILES = $(shell git ls-files -co --exclude-standard -- '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

deps:
	.ci/deps.sh

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
