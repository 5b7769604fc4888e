# Makefile: the entry point. configure writes the real build into
# objs/Makefile; this file runs configure when needed and adds the targets
# that are not about compiling.
#
#   make                 configure (if objs/Makefile is missing or configure or
#                        auto/ changed) and build objs/sluice
#   make unit            build the C unit tests (objs/t/unit/test_*)
#   make test            install missing Debian packages (as root), build the
#                        binary and the unit tests, run them all with prove
#   make test-sanitizers configure --with-sanitizers into the same objs/ and
#                        run make test; objs/ stays configured that way (the
#                        next plain make keeps the sanitizers) until
#                        ./configure is run again or make clean
#   make run             install missing packages (as root), build, and run
#                        objs/sluice in the foreground with this tree as prefix
#   make install         install into the configured prefix (DESTDIR works)
#   make fuzz            build the libFuzzer targets in fuzz/ with clang (ASan +
#                        UBSan), replay fuzz/regressions/, then fuzz each target
#                        FUZZ_SECONDS seconds (default 60); fails on any crash
#                        (fuzz/README.md)
#   make format          clang-format -i every C source and header
#   make clean           remove objs/
#
# SLUICE_CONFIGURE_ARGS="--with-debug ..." gives the arguments configure is
# run with; make reconfigures whenever they differ from those it used last.
# Without it, a rerun reuses the arguments of the last configure
# (objs/reconfigure). Debian packages needed are listed in auto/deps.

SHELL = /bin/sh
MAKEFLAGS += --no-print-directory

CONFIGURE_DEPS = configure $(filter-out auto/lib,$(wildcard auto/*)) $(wildcard auto/lib/*)
FORMAT_DIRS = $(wildcard core http modules t/unit fuzz)

.PHONY: default build unit test test-sanitizers run install format clean deps deps-build bench \
        soak fuzz

default: build

ifeq ($(wildcard objs/Makefile),)
objs/configure.stamp: FORCE
endif

ifdef SLUICE_CONFIGURE_ARGS
ifneq ($(SLUICE_CONFIGURE_ARGS),$(shell cat objs/configure.knob 2>/dev/null))
objs/configure.stamp: FORCE
endif
endif

.PHONY: FORCE
FORCE:

objs/configure.stamp: $(CONFIGURE_DEPS)
	@if [ -n "$(SLUICE_CONFIGURE_ARGS)" ]; then \
	    echo "./configure $(SLUICE_CONFIGURE_ARGS)"; \
	    ./configure $(SLUICE_CONFIGURE_ARGS) && \
	    printf '%s\n' "$(SLUICE_CONFIGURE_ARGS)" > objs/configure.knob; \
	elif [ -x objs/reconfigure ]; then \
	    echo "objs/reconfigure"; \
	    objs/reconfigure; \
	else \
	    echo "./configure"; \
	    ./configure; \
	fi

build: objs/configure.stamp
	$(MAKE) -f objs/Makefile all

unit: build
	$(MAKE) -f objs/Makefile unit

deps:
	@sh auto/deps install build test

deps-build:
	@sh auto/deps install build

test: deps
	@$(MAKE) build
	$(MAKE) -f objs/Makefile test

test-sanitizers: deps
	./configure --with-sanitizers $(SLUICE_CONFIGURE_ARGS)
	$(MAKE) -f objs/Makefile test

# Started as root, the workers run as nobody:nogroup, as nginx's do. A
# checkout that user cannot read (one under /root, say) would answer the demo
# page with 403, so then the demo keeps its workers as root and says so.
run: deps-build
	@$(MAKE) build
	mkdir -p logs
	@user=""; \
	if [ "$$(id -u)" = 0 ] && ! setpriv --reuid=nobody --regid=nogroup --clear-groups \
	        test -r "$(CURDIR)/html/index.html" 2>/dev/null; then \
	    echo "note: user nobody cannot read $(CURDIR)/html; the demo workers run as root"; \
	    user="user root root;"; \
	fi; \
	echo "objs/sluice -p $(CURDIR)/ -c conf/sluice.conf -g \"daemon off; master_process on; $$user\""; \
	exec objs/sluice -p $(CURDIR)/ -c conf/sluice.conf -g "daemon off; master_process on; $$user"

# Sluice beside nginx on this machine (bench/README.md); wrk and nginx are
# installed first when missing and running as root. SLUICE_BINARY=PATH
# measures another build instead of objs/sluice.
bench: build
	@sh auto/deps install bench
	perl bench/run
	perl bench/reload.pl --nginx

# 30 minutes of mixed traffic with worker memory sampled each minute
# (bench/README.md, "Soak"); MINUTES=N shortens it. Build without sanitizers.
soak: build
	@sh auto/deps install bench
	perl bench/soak.pl $(if $(MINUTES),--minutes $(MINUTES))

install: build
	$(MAKE) -f objs/Makefile install

# configure decides which sources exist (objs/Makefile); fuzz/fuzz.mk compiles
# them again with clang into objs/fuzz/. FUZZ_SECONDS=N reaches it as is.
fuzz: objs/configure.stamp
	@sh auto/deps install fuzz
	$(MAKE) -f fuzz/fuzz.mk run

format:
	@test -n "$(FORMAT_DIRS)" || exit 0; \
	files=$$(find $(FORMAT_DIRS) -type f \( -name '*.c' -o -name '*.h' \) | sort); \
	if [ -n "$$files" ]; then echo "clang-format -i" $$files; clang-format -i $$files; fi

clean:
	rm -rf objs
