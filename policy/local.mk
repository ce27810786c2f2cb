# policy/: YAML access policy, governance and views (issues 6 and 7).
noinst_LIBRARIES += policy/libpolicy.a
policy_libpolicy_a_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS)
policy_libpolicy_a_SOURCES = \
	policy/policy.h policy/policy_int.h \
	policy/ytree.c policy/ytree.h \
	policy/pred.c policy/pred.h \
	policy/load.c policy/tests.c policy/eval.c policy/forget.c \
	policy/view.c policy/view.h
POLICY_LIBS = policy/libpolicy.a common/libcommon.a $(YAML_LIBS)
EXTRA_DIST += man/policy.section.txt contrib/examples/policy.yaml
