# The two commands a newcomer needs: `make test` and `make demo`.
# Everything else is a convenience over CMake in build/ and build-asan/.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
ASAN_BUILD ?= build-asan
CTEST_FLAGS ?= --output-on-failure -j$(JOBS) --timeout 600

.PHONY: all deps build test test-release test-asan demo bench format lint clean fuzz soak \
  windows windows-deps windows-for-test test-windows screenshots

all: build

deps:
	@scripts/install-deps

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j$(JOBS)

# Release suite, then the same suite under ASan+UBSan.  The last lines are
# ctest's summary of the sanitizer run; any failure exits non-zero.
# Before them windows-for-test builds kinerja.exe and its installer, so
# that the Release suite runs the Windows client's tests under Wine too
# (label windows, once: the ASan build has none; docs/windows-port.md "Tests
# under Wine").  When apt or deb.debian.org cannot be reached it says so,
# here and again at the end, and those tests report themselves skipped.
test: deps windows-for-test test-release test-asan
	@if [ -f $(WIN_BUILD)/NOT-BUILT ]; then \
	  echo "make test: the Windows part was NOT tested: $$(cat $(WIN_BUILD)/NOT-BUILT)"; \
	  echo "make test: its wine_* tests are in ctest's list of skipped tests above"; fi
	@tests/tools/pgcluster check >/dev/null || echo "make test: PostgreSQL's server" \
	  "(postgresql-15) is not installed, so the PostgreSQL tests were SKIPPED;" \
	  "scripts/install-deps installs it"

test-release: build
	cd $(BUILD) && ctest $(CTEST_FLAGS)

test-asan: deps
	CC=clang cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DKJ_SANITIZE=ON -DKJ_FUZZ=ON
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest $(CTEST_FLAGS)

# The whole system in about a minute (scripts/demo.sh), on the Release build.
demo: build
	KJ_BIN=$(CURDIR)/$(BUILD) scripts/demo.sh

# The office app's main pages as PNGs in docs/screenshots/ (the browser
# tests tests/browser/test_office.py and test_office_data.py take them).
screenshots: build
	cd $(BUILD) && KJ_SCREENSHOT_DIR=$(CURDIR)/docs/screenshots ctest -R 'browser_(office|bkd)' --output-on-failure

# Every benchmark in one go; writes docs/performance.md (scripts/bench.sh).
# BENCH_QUICK=1 skips the slowest ones; BENCH_PG=0 the PostgreSQL part (30 minutes).
bench: build
	scripts/bench.sh $(BUILD)

SOURCES = $(shell git ls-files '*.c' '*.h')

format:
	clang-format -i $(SOURCES)

# The libFuzzer targets are compiled only in the clang builds (KJ_FUZZ), so
# build/ has no compile commands for them: cppcheck alone reads those.
# clang-tidy also runs clang's -Wsign-conversion (enabled as the check
# clang-diagnostic-sign-conversion in .clang-tidy, an error like every
# warning there): a signed value that may be negative never silently
# becomes a size or a kj_code.
# common/plat_win.c is compiled by the Windows build only (no Windows
# headers here): `make windows` builds it with -Wall -Wextra -Werror.
LINT_SOURCES = $(filter-out tests/fuzz/% common/plat_win.c,$(filter %.c,$(SOURCES)))
lint: build
	clang-tidy -p $(BUILD) --quiet --extra-arg=-Wsign-conversion $(LINT_SOURCES)
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --inline-suppr --suppress=missingIncludeSystem --std=c11 \
	  $(addprefix -I,common proto http client server) $(filter %.c,$(SOURCES))

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(WIN_BUILD)

# Windows (issue 20, docs/operations.md "Building for Windows"): kinerja.exe
# for x86_64, cross-built with Debian's MinGW-w64, and its installer
# build-windows/kinerja-setup-VERSION.exe (NSIS, dist/windows/kinerja.nsi).  scripts/windows-deps
# builds the libraries from Debian's source packages into a cache outside the
# checkout (minutes the first time, nothing after); the client alone is built.
WIN_BUILD ?= build-windows
windows-deps:
	@scripts/install-deps --windows
	scripts/windows-deps

# CMake keeps what pkg-config found in the old library prefix: a new prefix
# (new pins or recipes, another KJ_WINDOWS_CACHE) configures afresh.
windows: windows-deps
	@p="$$(scripts/windows-deps --prefix)"; \
	if [ -f $(WIN_BUILD)/CMakeCache.txt ] && [ "$$(cat $(WIN_BUILD)/.kj-prefix 2>/dev/null)" != "$$p" ]; then \
	  echo "windows: libraries now in $$p: configuring $(WIN_BUILD) afresh"; \
	  rm -f $(WIN_BUILD)/CMakeCache.txt; fi; \
	mkdir -p $(WIN_BUILD) && echo "$$p" >$(WIN_BUILD)/.kj-prefix
	cmake -S . -B $(WIN_BUILD) -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/mingw-w64.cmake \
	  -DKJ_WINDOWS_PREFIX="$$(scripts/windows-deps --prefix)"
	cmake --build $(WIN_BUILD) -j$(JOBS) --target kinerja kinerja_setup test_plat

# The client's tests against kinerja.exe under Wine (tests/windows; needs
# `scripts/install-deps --windows`, which installs Wine).  Without Wine or
# kinerja.exe each test is reported skipped.
test-windows: windows build
	cd $(BUILD) && ctest $(CTEST_FLAGS) -L windows

# `make windows` for `make test`: a failure to install the packages (apt
# without network or sudo) or to fetch Debian's sources (windows-deps then
# leaves no src/.fetched in its cache) skips the Windows part with the
# reason in $(WIN_BUILD)/NOT-BUILT (and removes the exes of an earlier
# build, which would be tested in place of this code); a failure to build
# fails.
windows-for-test:
	@rm -f $(WIN_BUILD)/NOT-BUILT; why=""; \
	if ! scripts/install-deps --windows; then \
	  why="scripts/install-deps --windows could not install the packages (apt: network, sudo?)"; \
	elif ! scripts/windows-deps; then \
	  if [ -f "$$(scripts/windows-deps --prefix)/../src/.fetched" ]; then exit 1; fi; \
	  why="scripts/windows-deps could not fetch Debian's sources (network? log above)"; \
	fi; \
	if [ -n "$$why" ]; then \
	  mkdir -p $(WIN_BUILD) && echo "$$why" >$(WIN_BUILD)/NOT-BUILT; \
	  rm -f $(WIN_BUILD)/client/kinerja.exe $(WIN_BUILD)/test_plat.exe $(WIN_BUILD)/kinerja-setup-*.exe; \
	  echo "make test: *** the Windows part is skipped: $$why"; \
	else $(MAKE) --no-print-directory windows; fi

# Robustness (issue 8, docs/operations.md "Robustness record").
# make fuzz [FUZZ_SECONDS=60]: each libFuzzer target over its seed corpus.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = fuzz_http fuzz_push fuzz_csv fuzz_pull
fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DKJ_SANITIZE=ON -DKJ_FUZZ=ON \
	  -DKJ_FUZZ_SECONDS=$(FUZZ_SECONDS)
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target $(FUZZ_TARGETS)
	cd $(FUZZ_BUILD) && ctest --output-on-failure --timeout 100000 -V -R '^fuzz_'


# make soak [SEED=n] [DURATION=s]: the fault-injection soak (tests/soak/soak.py);
# a failure prints its seed for replay.
SEED ?= $(shell date +%s)
DURATION ?= 120
soak: build
	python3 tests/soak/soak.py $(BUILD) $(SEED) $(DURATION)
