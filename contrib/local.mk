EXTRA_DIST += contrib

bashcompdir = $(datadir)/bash-completion/completions
dist_bashcomp_DATA = contrib/completion/sievefs

# The pure-Python loader (import sievefs), in Python's site directory.
if HAVE_PYTHON
pysievefsdir = $(pythondir)/sievefs
pysievefs_PYTHON = contrib/python/sievefs/__init__.py
endif
