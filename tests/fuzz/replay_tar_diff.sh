#!/bin/sh
# Replays the differential tar corpus (sievefs against libarchive): every
# file is a regression test.
exec "${top_builddir:-.}/tests/fuzz/fuzz_tar_diff" "${top_srcdir:-.}/tests/fuzz/corpus/tar_diff"
