# The two commands a newcomer needs: `make test` and `make demo`.
# Everything else is a convenience over CMake in build/ and build-asan/.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
ASAN_BUILD ?= build-asan
CTEST_FLAGS ?= --output-on-failure -j$(JOBS) --timeout 600

.PHONY: all deps build test test-release test-asan demo bench format lint clean fuzz soak \
  windows windows-deps test-windows screenshots

all: build

deps:
	@scripts/install-deps

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j$(JOBS)

# Release suite, then the same suite under ASan+UBSan.  The last lines are
# ctest's summary of the sanitizer run; any failure exits non-zero.
test: deps test-release test-asan
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
# test of tests/browser/test_office.py takes them).
screenshots: build
	cd $(BUILD) && KJ_SCREENSHOT_DIR=$(CURDIR)/docs/screenshots ctest -R browser_office --output-on-failure

# Every benchmark in one go; writes docs/performance.md (scripts/bench.sh).
# BENCH_QUICK=1 skips the slowest ones.
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

windows: windows-deps
	cmake -S . -B $(WIN_BUILD) -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/mingw-w64.cmake \
	  -DKJ_WINDOWS_PREFIX="$$(scripts/windows-deps --prefix)"
	cmake --build $(WIN_BUILD) -j$(JOBS) --target kinerja kinerja_setup test_plat

# The client's tests against kinerja.exe under Wine (tests/windows; needs
# `scripts/install-deps --windows`, which installs Wine).  Without Wine or
# kinerja.exe each test is reported skipped.
test-windows: windows build
	cd $(BUILD) && ctest $(CTEST_FLAGS) -L windows

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
