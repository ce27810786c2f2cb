#!/bin/sh
# Replays the view fuzz corpus (every file is a regression test).
exec "${top_builddir:-.}/tests/fuzz/fuzz_view" "${top_srcdir:-.}/tests/fuzz/corpus/view"
