EXTRA_DIST += contrib
