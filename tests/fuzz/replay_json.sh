#!/bin/sh
# Replays the json fuzz corpus (every file is a regression test).
exec "${top_builddir:-.}/tests/fuzz/fuzz_json" "${top_srcdir:-.}/tests/fuzz/corpus/json"
