# Unit tests (TAP), integration tests (real mounts) and checks of the tree.
EXTRA_DIST += tests/tap.h tests/integration/lib.sh tests/fs.mk tests/bench tests/valgrind tests/e2e

UNIT_TESTS = \
	tests/unit/common_util \
	tests/unit/common_hash \
	tests/unit/index_tar \
	tests/unit/index_store \
	tests/unit/index_zst \
	tests/unit/policy_eval \
	tests/unit/policy_load \
	tests/unit/policy_pred \
	tests/unit/policy_view
check_PROGRAMS += $(UNIT_TESTS)

tests_unit_common_util_SOURCES = tests/unit/common_util.c
tests_unit_common_util_LDADD = common/libcommon.a
tests_unit_common_hash_SOURCES = tests/unit/common_hash.c
tests_unit_common_hash_LDADD = common/libcommon.a
tests_unit_index_tar_SOURCES = tests/unit/index_tar.c
tests_unit_index_tar_LDADD = $(INDEX_LIBS)
tests_unit_index_store_SOURCES = tests/unit/index_store.c
tests_unit_index_store_LDADD = $(INDEX_LIBS)
tests_unit_policy_eval_SOURCES = tests/unit/policy_eval.c
tests_unit_policy_eval_LDADD = $(POLICY_LIBS)
tests_unit_policy_load_SOURCES = tests/unit/policy_load.c
tests_unit_policy_load_LDADD = $(POLICY_LIBS)
tests_unit_policy_pred_SOURCES = tests/unit/policy_pred.c
tests_unit_policy_pred_LDADD = $(POLICY_LIBS)
tests_unit_policy_view_SOURCES = tests/unit/policy_view.c
tests_unit_policy_view_LDADD = $(POLICY_LIBS)
tests_unit_index_zst_SOURCES = tests/unit/index_zst.c
tests_unit_index_zst_CFLAGS = $(AM_CFLAGS) $(ZSTD_CFLAGS)
tests_unit_index_zst_LDADD = $(INDEX_LIBS) -lpthread

INTEGRATION_TESTS = \
	tests/integration/cli_basics.sh \
	tests/integration/store_cli.sh \
	tests/integration/json_utf8.sh \
	tests/integration/ingest_stream.sh \
	tests/integration/ingest_links.sh \
	tests/integration/tar_go.sh \
	tests/integration/tar_gnu.sh \
	tests/integration/sparse.sh \
	tests/integration/pack.sh \
	tests/integration/pack_mount.sh \
	tests/integration/policy_cli.sh \
	tests/integration/completion.sh \
	tests/integration/crash_ingest.sh \
	tests/integration/crash_more.sh \
	tests/integration/view_cli.sh \
	tests/integration/layering.sh
dist_check_SCRIPTS = $(INTEGRATION_TESTS)

TESTS += $(UNIT_TESTS) $(INTEGRATION_TESTS)
include tests/fs.mk
include tests/fuzz/local.mk
