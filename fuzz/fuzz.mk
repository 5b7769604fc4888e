# fuzz/fuzz.mk: builds and runs the libFuzzer targets; the top-level
# `make fuzz` runs it after configure. Everything is compiled here with clang
# (libFuzzer needs its instrumentation), into objs/fuzz/: the library sources
# configure chose (LIB_OBJS of objs/Makefile) with -fsanitize=fuzzer-no-link,
# the targets with -fsanitize=fuzzer; both with ASan and UBSan.
#
#   make -f fuzz/fuzz.mk build           build objs/fuzz/fuzz_* only
#   make -f fuzz/fuzz.mk [run]           build, replay fuzz/regressions/<target>/,
#                                        then fuzz each target FUZZ_SECONDS seconds
#   make -f fuzz/fuzz.mk run-TARGET      the same for one target (run-fuzz_uri)
#
# A target fuzzes a copy of fuzz/corpus/<target>/ in fuzz/corpus-work/<target>/
# (kept between runs, so local runs build on each other) with the dictionary
# fuzz/<target>.dict. Any crash, leak, sanitizer report, broken invariant or
# timeout fails the run; libFuzzer saves the input under objs/fuzz/artifacts/.

FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
# Per-input limit: a parser that loops forever is a bug like a crash.
FUZZ_TIMEOUT ?= 25

FUZZ_TARGETS = fuzz_request fuzz_response fuzz_config fuzz_uri

FUZZ_SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=gnu11 -g -O1 -Wall -Wextra $(FUZZ_SANITIZE)
FUZZ_CPPFLAGS := $(shell sed -n 's/^CPPFLAGS = //p' objs/Makefile) -Ifuzz
FUZZ_LIBS := $(shell sed -n 's/^LIBS = //p' objs/Makefile)
FUZZ_LIB_SRCS := $(shell sed -n '/^LIB_OBJS = /,/^$$/p' objs/Makefile \
                   | grep -o 'objs/[^ ]*\.o' | sed 's|^objs/||; s|\.o$$|.c|')
FUZZ_LIB_OBJS = $(patsubst %.c,objs/fuzz/lib/%.o,$(FUZZ_LIB_SRCS)) objs/fuzz/lib/sl_modules.o
FUZZ_LIB = objs/fuzz/libsluice-fuzz.a

# fuzz_config keeps its inputs from reaching files and DNS (see fuzz_config.c).
FUZZ_WRAP_fuzz_config = -Wl,--wrap=open,--wrap=glob,--wrap=getaddrinfo
FUZZ_OBJS_fuzz_request = objs/fuzz/sl_fuzz_http.o
FUZZ_OBJS_fuzz_response = objs/fuzz/sl_fuzz_http.o
FUZZ_OBJS_fuzz_uri = objs/fuzz/sl_fuzz_http.o

# Inputs longer than this only slow the search down.
FUZZ_MAX_LEN_fuzz_request = 4096
FUZZ_MAX_LEN_fuzz_response = 4096
FUZZ_MAX_LEN_fuzz_config = 8192
FUZZ_MAX_LEN_fuzz_uri = 1024

FUZZ_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
           LSAN_OPTIONS=report_objects=1

.PHONY: run build $(addprefix run-,$(FUZZ_TARGETS))
.DEFAULT_GOAL := run

ifeq ($(wildcard objs/Makefile),)
$(error objs/Makefile is missing: run ./configure (or make) first)
endif

build: $(addprefix objs/fuzz/,$(FUZZ_TARGETS))

run: $(addprefix run-,$(FUZZ_TARGETS))

objs/fuzz/lib/sl_modules.o: objs/sl_modules.c objs/Makefile fuzz/fuzz.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_CPPFLAGS) -MMD -MP -c -o $@ $<

objs/fuzz/lib/%.o: %.c objs/Makefile fuzz/fuzz.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_CPPFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	rm -f $@
	ar rcs $@ $(FUZZ_LIB_OBJS)

# The fuzz sources themselves must be warning-free under clang too.
objs/fuzz/%.o: fuzz/%.c objs/Makefile fuzz/fuzz.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Werror -fsanitize=fuzzer $(FUZZ_CPPFLAGS) -MMD -MP -c -o $@ $<

.SECONDEXPANSION:
$(addprefix objs/fuzz/,$(FUZZ_TARGETS)): objs/fuzz/%: objs/fuzz/%.o $$(FUZZ_OBJS_%) $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_SANITIZE) -fsanitize=fuzzer $(FUZZ_WRAP_$*) -o $@ $< $(FUZZ_OBJS_$*) \
	    $(FUZZ_LIB) $(FUZZ_LIBS)

# Replays the saved regressions, then fuzzes; prints libFuzzer's summary and,
# on failure, the end of its log.
$(addprefix run-,$(FUZZ_TARGETS)): run-%: objs/fuzz/%
	@set -e; t=$*; \
	mkdir -p fuzz/corpus-work/$$t objs/fuzz/artifacts/$$t objs/fuzz/logs; \
	if [ -d fuzz/regressions/$$t ] && [ -n "$$(ls fuzz/regressions/$$t)" ]; then \
	    echo "fuzz: $$t: replaying fuzz/regressions/$$t/"; \
	    if ! $(FUZZ_ENV) objs/fuzz/$$t -runs=0 -timeout=$(FUZZ_TIMEOUT) \
	            fuzz/regressions/$$t/* > objs/fuzz/logs/$$t-regressions.log 2>&1; then \
	        tail -n 60 objs/fuzz/logs/$$t-regressions.log; \
	        echo "fuzz: $$t: a regression input fails (objs/fuzz/logs/$$t-regressions.log)"; \
	        exit 1; \
	    fi; \
	fi; \
	cp fuzz/corpus/$$t/* fuzz/corpus-work/$$t/; \
	echo "fuzz: $$t: fuzzing $(FUZZ_SECONDS) s (log: objs/fuzz/logs/$$t.log)"; \
	if ! $(FUZZ_ENV) objs/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=$(FUZZ_TIMEOUT) \
	        -max_len=$(FUZZ_MAX_LEN_$*) -dict=fuzz/$$t.dict -print_final_stats=1 \
	        -artifact_prefix=objs/fuzz/artifacts/$$t/ \
	        fuzz/corpus-work/$$t > objs/fuzz/logs/$$t.log 2>&1; then \
	    tail -n 80 objs/fuzz/logs/$$t.log; \
	    echo "fuzz: $$t: FAILED; the input is in objs/fuzz/artifacts/$$t/"; \
	    exit 1; \
	fi; \
	grep -aE '^#[0-9]+[[:space:]]+DONE' objs/fuzz/logs/$$t.log | tail -n 1 | sed "s/^/fuzz: $$t: /"; \
	grep -aE '^stat::(number_of_executed_units|peak_rss_mb)' objs/fuzz/logs/$$t.log \
	    | sed "s/^/fuzz: $$t: /"

-include $(wildcard objs/fuzz/*.d objs/fuzz/lib/*/*.d objs/fuzz/lib/*.d)
