#!/usr/bin/env bash
# The filter kernels stay vectorised: gcc's reports for each kernel and ymm in its AVX2 clone
# (scripts/check-vec; a clang build such as make asan's has no clones, only the reports count).
source "$(dirname "$0")/lib.sh"
"$VR_ROOT/scripts/check-vec" "$VR_BUILD"
