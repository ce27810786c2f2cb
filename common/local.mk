noinst_LIBRARIES += common/libcommon.a
common_libcommon_a_SOURCES = \
	common/buf.c common/buf.h \
	common/hash.c common/hash.h \
	common/log.c common/log.h \
	common/strset.c common/strset.h \
	common/util.c common/util.h
