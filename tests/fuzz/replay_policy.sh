#!/bin/sh
# Replays the policy fuzz corpus (every file is a regression test).
exec "${top_builddir:-.}/tests/fuzz/fuzz_policy" "${top_srcdir:-.}/tests/fuzz/corpus/policy"
