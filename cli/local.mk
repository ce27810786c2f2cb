bin_PROGRAMS += sievefs
sievefs_SOURCES = \
	cli/cli.h cli/main.c cli/common.c cli/common.h \
	cli/init.c cli/ingest.c cli/rm.c cli/relabel.c cli/log.c cli/tag.c \
	cli/ls.c cli/cat.c cli/stat.c cli/diff.c cli/verify.c cli/info.c \
	cli/mount.c cli/umount.c \
	cli/policy.c cli/forget.c cli/pack.c cli/gc.c \
	cli/views.c cli/view.c cli/stats.c
sievefs_CFLAGS = $(AM_CFLAGS)
sievefs_LDADD = $(FS_LIBS) $(POLICY_LIBS) $(INDEX_LIBS) -lpthread
