#!/bin/sh
# Replays the record fuzz corpus (every file is a regression test).
exec "${top_builddir:-.}/tests/fuzz/fuzz_record" "${top_srcdir:-.}/tests/fuzz/corpus/record"
