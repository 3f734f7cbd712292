# anycast-harness build. Every .c file in lib/ goes into libah.a; servers/ and
# clients/ build their main.c against their other files plus libah.a;
# anycast-lab is one archive per layer of harness/ (ARCHITECTURE.md), linked
# top layer first, and tests/layers.py fails the link when a layer calls one
# above it. Tests and fuzz targets are found by name, so adding a file needs
# no edit here.

PREFIX  ?= /usr/local
FUZZ_SECONDS ?= 15
DESTDIR ?=
BUILD   ?= build
CC      ?= cc
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

PKGS      := libuv ldns libmnl yaml-0.1 jansson libmicrohttpd
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
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(SAN) -Iinclude -I. -DAH_VERSION='"$(VERSION)"' \
	$(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL := $(SAN) $(LDFLAGS)
LIBS_ALL := $(PKG_LIBS) -lpthread -lm

LIB_SRCS     := $(wildcard lib/*.c)
SERVER_SRCS  := $(filter-out servers/main.c,$(wildcard servers/*.c))
CLIENT_SRCS  := $(filter-out clients/main.c,$(wildcard clients/*.c))
UNIT_SRCS    := $(shell find tests/unit -name 'test_*.c' | sort)
BENCH_SRCS   := $(wildcard bench/*.c)
TOOL_SRCS    := $(wildcard tests/tools/*.c)
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBAH      := $(BUILD)/libah.a
LIBSERVER  := $(BUILD)/libserver.a
LIBCLIENT  := $(BUILD)/libclient.a

# anycast-lab's layers, top first (the link order): each may call only the
# ones after it. tests/layers.py holds the same list.
HARNESS_LAYERS := cli run results routing topo sys lab
layer_lib = $(BUILD)/libharness_$(1).a
layer_srcs = $(filter-out harness/cli/main.c,$(wildcard harness/$(1)/*.c))
# $(call from,L,LIST): LIST from word L on.
from = $(if $(filter $(1),$(firstword $(2))),$(2),$(call from,$(1),$(wordlist 2,$(words $(2)),$(2))))
# $(call harness_link,L): the archives layer L links against, in link order.
harness_link = $(foreach l,$(call from,$(1),$(HARNESS_LAYERS)),$(call layer_lib,$(l))) $(LIBAH)
HARNESS_LIBS := $(call harness_link,cli)
ALL_LIBS     := $(HARNESS_LIBS) $(LIBCLIENT) $(LIBSERVER)
LAYERS_OK    := $(BUILD)/layers.ok

PROGS := $(BUILD)/anycast-responder $(BUILD)/anycast-probe $(BUILD)/anycast-lab
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
TOOL_BINS  := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRCS))

.PHONY: all responder probe lab unit bench-bins layers-check check unit-check integration-check asan fuzz \
	fuzz-smoke install man format format-check clean deps demo
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
$(foreach l,$(HARNESS_LAYERS),$(eval $(call layer_lib,$(l)): $(call obj,$(call layer_srcs,$(l)))))
$(ALL_LIBS):
	@mkdir -p $(dir $@)
	rm -f $@
	$(if $^,ar rcs $@ $^,ar rcs $@)

$(BUILD)/anycast-responder: $(call obj,servers/main.c) $(LIBSERVER) $(LIBAH)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_ALL)
$(BUILD)/anycast-probe: $(call obj,clients/main.c) $(LIBCLIENT) $(LIBAH)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_ALL)
$(BUILD)/anycast-lab: $(call obj,harness/cli/main.c) $(HARNESS_LIBS) | $(LAYERS_OK)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_ALL)

# The layering rule, checked on what was built: no archive needs a symbol
# that a layer above it (or another program) defines.
$(LAYERS_OK): $(ALL_LIBS) tests/layers.py
	tests/layers.py symbols $(BUILD)
	@touch $@

# A unit test links only the area it tests: tests/unit/<area>/test_x.c.
define unit_rule
$(BUILD)/tests/$(1)/%: $(BUILD)/obj/tests/unit/$(1)/%.o $(2)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS_ALL) -o $$@ $$< $(2) $$(LIBS_ALL) $$(CHECK_LIBS)
endef
$(eval $(call unit_rule,lib,$(LIBAH)))
$(eval $(call unit_rule,servers,$(LIBSERVER) $(LIBAH)))
$(eval $(call unit_rule,clients,$(LIBCLIENT) $(LIBAH)))
$(foreach l,$(HARNESS_LAYERS),$(eval $(call unit_rule,harness/$(l),$(call harness_link,$(l)))))

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
check: all unit layers-check $(if $(filter all %fuzz%,$(SUITE)),fuzz)
	AH_BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run.sh $(SUITE)

# The layering rule on the sources: no include crosses a layer upward, reaches
# another program's headers or another folder's *_int.h, or uses ../.
layers-check: $(LAYERS_OK)
	tests/layers.py includes
	tests/layers_test.sh >/dev/null || tests/layers_test.sh

unit-check: unit
	AH_BUILD=$(BUILD) tests/run.sh unit

integration-check: all
	AH_BUILD=$(BUILD) tests/run.sh integration

asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g" \
		SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		SUITE=unit,integration check

# libFuzzer targets (clang). The modules they exercise are built a second
# time with the fuzzer's coverage instrumentation into archives of their own,
# which the targets link like any program.
FUZZ_CC := clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -O1 -g -Iinclude -I. -DAH_VERSION='"$(VERSION)"' $(PKG_CFLAGS) $(FUZZ_SAN)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_LIBS := $(BUILD)/fuzz-lib/libharness_results.a $(BUILD)/fuzz-lib/libharness_lab.a \
	$(BUILD)/fuzz-lib/libserver.a $(BUILD)/fuzz-lib/libah.a
fuzz_obj = $(patsubst %.c,$(BUILD)/fuzz-obj/%.o,$(1))
$(BUILD)/fuzz-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@
$(BUILD)/fuzz-lib/libah.a: $(call fuzz_obj,$(LIB_SRCS))
$(BUILD)/fuzz-lib/libserver.a: $(call fuzz_obj,$(SERVER_SRCS))
$(BUILD)/fuzz-lib/libharness_lab.a: $(call fuzz_obj,$(call layer_srcs,lab))
$(BUILD)/fuzz-lib/libharness_results.a: $(call fuzz_obj,$(call layer_srcs,results))
$(FUZZ_LIBS):
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^
fuzz: $(FUZZ_BINS)
$(BUILD)/fuzz/%: $(BUILD)/fuzz-obj/tests/fuzz/%.o $(FUZZ_LIBS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIBS) $(LIBS_ALL)

fuzz-smoke: fuzz
	AH_BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run.sh fuzz

demo: all
	BUILD=$(BUILD) ./demo.sh

# Man pages: section 1 from each program's own --help and --version
# (help2man, with the shared EXIT STATUS and SEE ALSO of docs/man/), section 5
# from docs/lab-file.md (lowdown), so they never disagree with the programs.
MAN1 := $(patsubst %,$(BUILD)/man/%.1,anycast-responder anycast-probe anycast-lab)
MAN5 := $(BUILD)/man/anycast-lab.yaml.5
H2M_COMMON := docs/man/exit-status.h2m docs/man/see-also.h2m
man: $(MAN1) $(MAN5)

$(BUILD)/man/anycast-lab.1: $(BUILD)/anycast-lab docs/man/anycast-lab.h2m docs/man/lab-commands.sh $(H2M_COMMON)
	@mkdir -p $(dir $@)
	docs/man/lab-commands.sh $< >$(BUILD)/man/lab-commands.h2m
	help2man -N --no-discard-stderr -i docs/man/anycast-lab.h2m -i $(BUILD)/man/lab-commands.h2m \
		$(addprefix -i ,$(H2M_COMMON)) -o $@ $<

$(BUILD)/man/%.1: $(BUILD)/% docs/man/%.h2m $(H2M_COMMON)
	@mkdir -p $(dir $@)
	help2man -N --no-discard-stderr -i docs/man/$*.h2m $(addprefix -i ,$(H2M_COMMON)) -o $@ $<

$(MAN5): docs/lab-file.md
	@mkdir -p $(dir $@)
	lowdown -s -Tman -M title=anycast-lab.yaml -M section=5 $< | \
		sed '/^\.TH /a .SH NAME\nanycast-lab.yaml \\- the lab file of anycast-lab: nodes, vantages, traffic, drill and expectations' >$@

COMPLETION := harness/cli/anycast-harness.bash
install: all man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 0755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(MAN1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 $(MAN5) $(DESTDIR)$(PREFIX)/share/man/man5/
	for p in anycast-lab anycast-probe anycast-responder; do \
		install -m 0644 $(COMPLETION) $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$p; \
	done

FORMAT_FILES = $(shell git ls-files -co --exclude-standard -- '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

deps:
	.ci/deps.sh

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD)/obj $(BUILD)/fuzz-obj -name '*.d' 2>/dev/null)
