# Fuzz targets.  With --enable-fuzzing (CC=clang) they are libFuzzer binaries
# (tests/fuzz/fuzz_tar CORPUS_DIR); otherwise each is linked with replay.c and
# replays its corpus in `make check`.
FUZZ_TARGETS = tests/fuzz/fuzz_tar tests/fuzz/fuzz_json
tests_fuzz_fuzz_tar_SOURCES = tests/fuzz/fuzz_tar.c
tests_fuzz_fuzz_json_SOURCES = tests/fuzz/fuzz_json.c
tests_fuzz_fuzz_tar_LDADD = $(INDEX_LIBS)
tests_fuzz_fuzz_json_LDADD = $(INDEX_LIBS)
if FUZZING
noinst_PROGRAMS += $(FUZZ_TARGETS)
tests_fuzz_fuzz_tar_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_json_LDFLAGS = -fsanitize=fuzzer
else
check_PROGRAMS += $(FUZZ_TARGETS)
tests_fuzz_fuzz_tar_SOURCES += tests/fuzz/replay.c
tests_fuzz_fuzz_json_SOURCES += tests/fuzz/replay.c
TESTS += tests/fuzz/replay_tar.sh tests/fuzz/replay_json.sh
endif
dist_check_SCRIPTS += tests/fuzz/replay_tar.sh tests/fuzz/replay_json.sh
EXTRA_DIST += tests/fuzz/corpus
