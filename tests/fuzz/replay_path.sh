#!/bin/sh
# Replays the path fuzz corpus (every file is a regression test).
exec "${top_builddir:-.}/tests/fuzz/fuzz_path" "${top_srcdir:-.}/tests/fuzz/corpus/path"
