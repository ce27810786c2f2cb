#!/bin/sh
# Replays the tar fuzz corpus (every file is a regression test).
exec "${top_builddir:-.}/tests/fuzz/fuzz_tar" "${top_srcdir:-.}/tests/fuzz/corpus/tar"
