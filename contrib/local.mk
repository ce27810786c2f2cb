EXTRA_DIST += contrib

bashcompdir = $(datadir)/bash-completion/completions
dist_bashcomp_DATA = contrib/completion/sievefs
