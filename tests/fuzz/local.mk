# Fuzz targets.  With --enable-fuzzing (CC=clang) they are libFuzzer binaries
# (tests/fuzz/fuzz_tar CORPUS_DIR); otherwise each is linked with replay.c and
# replays its corpus (tests/fuzz/corpus/NAME) in `make check`.
FUZZ_TARGETS = tests/fuzz/fuzz_tar tests/fuzz/fuzz_json tests/fuzz/fuzz_policy \
	tests/fuzz/fuzz_zstd tests/fuzz/fuzz_record tests/fuzz/fuzz_path tests/fuzz/fuzz_view
FUZZ_REPLAYS = tests/fuzz/replay_tar.sh tests/fuzz/replay_json.sh tests/fuzz/replay_policy.sh \
	tests/fuzz/replay_zstd.sh tests/fuzz/replay_record.sh tests/fuzz/replay_path.sh \
	tests/fuzz/replay_view.sh
tests_fuzz_fuzz_tar_SOURCES = tests/fuzz/fuzz_tar.c
tests_fuzz_fuzz_json_SOURCES = tests/fuzz/fuzz_json.c
tests_fuzz_fuzz_policy_SOURCES = tests/fuzz/fuzz_policy.c
tests_fuzz_fuzz_zstd_SOURCES = tests/fuzz/fuzz_zstd.c
tests_fuzz_fuzz_record_SOURCES = tests/fuzz/fuzz_record.c
tests_fuzz_fuzz_path_SOURCES = tests/fuzz/fuzz_path.c
tests_fuzz_fuzz_view_SOURCES = tests/fuzz/fuzz_view.c
tests_fuzz_fuzz_tar_LDADD = $(INDEX_LIBS)
tests_fuzz_fuzz_json_LDADD = $(INDEX_LIBS)
tests_fuzz_fuzz_policy_LDADD = $(POLICY_LIBS)
tests_fuzz_fuzz_zstd_LDADD = $(INDEX_LIBS) -lpthread
tests_fuzz_fuzz_record_LDADD = $(INDEX_LIBS) -lpthread
tests_fuzz_fuzz_path_LDADD = common/libcommon.a
tests_fuzz_fuzz_view_LDADD = $(POLICY_LIBS)
if FUZZING
noinst_PROGRAMS += $(FUZZ_TARGETS)
tests_fuzz_fuzz_tar_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_json_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_policy_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_zstd_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_record_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_path_LDFLAGS = -fsanitize=fuzzer
tests_fuzz_fuzz_view_LDFLAGS = -fsanitize=fuzzer
else
check_PROGRAMS += $(FUZZ_TARGETS)
tests_fuzz_fuzz_tar_SOURCES += tests/fuzz/replay.c
tests_fuzz_fuzz_json_SOURCES += tests/fuzz/replay.c
tests_fuzz_fuzz_policy_SOURCES += tests/fuzz/replay.c
tests_fuzz_fuzz_zstd_SOURCES += tests/fuzz/replay.c
tests_fuzz_fuzz_record_SOURCES += tests/fuzz/replay.c
tests_fuzz_fuzz_path_SOURCES += tests/fuzz/replay.c
tests_fuzz_fuzz_view_SOURCES += tests/fuzz/replay.c
TESTS += $(FUZZ_REPLAYS)
endif
dist_check_SCRIPTS += $(FUZZ_REPLAYS)
EXTRA_DIST += tests/fuzz/corpus tests/fuzz/memsrc.h

# The differential tar target (sievefs against libarchive) needs libarchive,
# a test-only dependency: built and replayed only where configure found it.
if HAVE_LIBARCHIVE
tests_fuzz_fuzz_tar_diff_SOURCES = tests/fuzz/fuzz_tar_diff.c
tests_fuzz_fuzz_tar_diff_CFLAGS = $(AM_CFLAGS) $(LIBARCHIVE_CFLAGS)
tests_fuzz_fuzz_tar_diff_LDADD = $(INDEX_LIBS) $(LIBARCHIVE_LIBS) -lpthread
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_tar_diff
tests_fuzz_fuzz_tar_diff_LDFLAGS = -fsanitize=fuzzer
else
check_PROGRAMS += tests/fuzz/fuzz_tar_diff
tests_fuzz_fuzz_tar_diff_SOURCES += tests/fuzz/replay.c
TESTS += tests/fuzz/replay_tar_diff.sh
endif
endif
dist_check_SCRIPTS += tests/fuzz/replay_tar_diff.sh
