dist_man_MANS += man/sievefs.1 man/sievefs-policy.5 man/sievefs-view.5

if HAVE_MANDOC
check-local: check-man
check-man:
	$(MANDOC) -Tlint -Wwarning $(top_srcdir)/man/*.[0-9]
endif
