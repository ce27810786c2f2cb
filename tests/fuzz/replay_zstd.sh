#!/bin/sh
# Replays the zstd fuzz corpus (every file is a regression test).
exec "${top_builddir:-.}/tests/fuzz/fuzz_zstd" "${top_srcdir:-.}/tests/fuzz/corpus/zstd"
