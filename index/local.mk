noinst_LIBRARIES += index/libindex.a
index_libindex_a_CFLAGS = $(AM_CFLAGS) $(LMDB_CFLAGS) $(ZSTD_CFLAGS) $(URING_CFLAGS)
index_libindex_a_SOURCES = \
	index/backend.c index/backend.h \
	index/store.c index/store.h index/store_int.h \
	index/entry.c index/commit.c index/commit.h \
	index/attrs.c \
	index/reader.c index/reader.h \
	index/tar.c index/tar.h index/tar_int.h index/tar_pax.c \
	index/ingest.c index/ingest.h index/links.c index/links.h index/labels.c \
	index/json.c index/json.h \
	index/diff.c index/diff.h \
	index/zcodec.c index/zcodec.h index/zcache.c index/zcache.h \
	index/zwriter.c index/zwriter.h index/fetch.c index/fetch.h \
	index/pack.c index/pack.h index/gc.c \
	index/view.c index/view.h
INDEX_LIBS = index/libindex.a common/libcommon.a $(LMDB_LIBS) $(ZSTD_LIBS) $(URING_LIBS)
