#!/usr/bin/env bash
# The command line as a user meets it: help, usage errors, the report, --json, output names.
. "$(dirname "$0")/lib.sh"
private_tmp

gen_clip "$T/clip.mp4" 4 || { fail setup "cannot generate the test clip"; finish; }
IN_FRAMES=$(frames "$T/clip.mp4")

# ---- help, version, filter list: exit 0, on stdout ----

run_master help --help
check help-exits-0 [ "$rc" -eq 0 ]
check help-shows-usage grep -q '^usage: master \[options\] FILE' "$T/help.out"
check help-lists-options grep -q -- '--compare' "$T/help.out"
run_master help_short -h
check help-short-option [ "$rc" -eq 0 -a -s "$T/help_short.out" ]
run_master version --version
check version-exits-0 [ "$rc" -eq 0 ]
check version-prints-version grep -Eq '^video-renderer [0-9]+\.[0-9]+\.[0-9]+$' "$T/version.out"
run_master list --list-filters
check list-filters-exits-0 [ "$rc" -eq 0 ]
check list-filters-names-grayscale-and-blur eval 'grep -q grayscale "$T/list.out" && grep -q blur "$T/list.out"'

# ---- usage errors: exit 2, a message naming the problem, nothing on stdout, no output file ----

# usage NAME PATTERN ARGS...: exit 2, stderr matches PATTERN (case-insensitive), stdout empty
usage() {
	local name=$1 pat=$2; shift 2
	run_master "$name" "$@"
	if [ "$rc" -ne 2 ]; then
		fail "$name" "want exit 2, $(why "$name")"
	elif ! grep -Eqi -- "$pat" "$T/$name.err"; then
		fail "$name" "stderr does not say '$pat': $(head -c 300 "$T/$name.err")"
	elif [ -s "$T/$name.out" ]; then
		fail "$name" "stdout not empty: $(head -c 200 "$T/$name.out")"
	else
		pass "$name"
	fi
}
mkdir -p "$T/u" && cp "$T/clip.mp4" "$T/u/in.mp4"
usage usage-unknown-option 'unknown option --bogus' --bogus "$T/u/in.mp4"
usage usage-unknown-short-option 'unknown option' -Z "$T/u/in.mp4"
usage usage-workers-zero 'workers' --workers 0 "$T/u/in.mp4"
usage usage-workers-not-a-number 'workers.*abc' -w abc "$T/u/in.mp4"
usage usage-workers-trailing-junk 'workers' -w 2x "$T/u/in.mp4"
usage usage-crf-too-big 'crf.*52' --crf 52 "$T/u/in.mp4"
usage usage-crf-not-a-number 'crf' --crf high "$T/u/in.mp4"
usage usage-segment-seconds-zero 'segment-seconds' -s 0 "$T/u/in.mp4"
usage usage-unknown-preset 'preset' --preset turbo "$T/u/in.mp4"
usage usage-unknown-filter 'nosuchfilter' --filter nosuchfilter "$T/u/in.mp4"
usage usage-filter-param-out-of-range 'sigma' --filter blur:sigma=999 "$T/u/in.mp4"
usage usage-filter-unknown-param 'radius' --filter blur:radius=3 "$T/u/in.mp4"
usage usage-no-file 'no input file' --filter grayscale
usage usage-two-files-one-output 'would both be written' "$T/u/in.mp4" "$T/u/in.mp4"
usage usage-option-without-value 'needs a value' "$T/u/in.mp4" -o
# serve reads --preset and --workers with the same parsers (master/opts.c)
usage serve-unknown-preset 'unknown x264 preset .turbo.' serve --port 0 --data-dir "$T/sd" --preset turbo
usage serve-workers-not-a-number 'workers takes a whole number from 0 to 1024' serve --port 0 --data-dir "$T/sd" --workers abc
check usage-errors-write-no-file [ "$(ls "$T/u")" = in.mp4 ]

# ---- the report with the baseline (--compare) ----

run_master report --compare -w 2 -s 3 -o "$T/report.mp4" "$T/clip.mp4"
if [ "$rc" -ne 0 ]; then
	fail report-run "$(why report)"
else
	pass report-run
	check report-names-input grep -q "^input .*clip.mp4: 320x240" "$T/report.out"
	check report-frames-in-equal-out grep -Eq "^frames +$IN_FRAMES in, $IN_FRAMES out$" "$T/report.out"
	check report-identical-yes grep -q '^identical *yes' "$T/report.out"
	# the pieces as cut: at most 3 s each over 2 workers makes 4 s two pieces of 2 s
	check report-segments-as-cut grep -Eq '^segments +2 of ~2 s, 2 workers$' "$T/report.out"
	check report-speedup grep -Eq '^parallel .*speedup [0-9.]+x' "$T/report.out"
	check report-output-path grep -q "^output *$T/report.mp4$" "$T/report.out"
	check report-output-frames [ "$(frames "$T/report.mp4")" = "$IN_FRAMES" ]
fi

# ---- --json with the baseline: one object on stdout, every field a client reads ----

run_master json --json --compare -w 2 -s 1 -o "$T/json.mp4" "$T/clip.mp4"
J=$T/json.out
if [ "$rc" -ne 0 ]; then
	fail json-run "$(why json)"
elif ! json_one "$J"; then
	fail json-one-object "stdout is not exactly one JSON object: $(head -c 300 "$J")"
else
	pass json-one-object
	check json-status-completed [ "$(jf "$J" .status)" = completed ]
	check json-filter-type [ "$(jf "$J" .filter_type)" = grayscale ]
	check json-sequential-time jt "$J" '(.sequential_time | type) == "number" and .sequential_time > 0'
	check json-parallel-time jt "$J" '(.parallel_time | type) == "number" and .parallel_time > 0'
	check json-speedup-is-seq-over-par jt "$J" '(.speedup - .sequential_time / .parallel_time | fabs) < 0.01'
	check json-segments-processed jt "$J" '.segments_processed >= 3 and .segments_processed == .segments_total'
	check json-cpu-cores-used [ "$(jf "$J" .cpu_cores_used)" = 2 ]
	check json-output-filename [ "$(jf "$J" .output_filename)" = json.mp4 ]
	check json-frames-in [ "$(jf "$J" .frames_in)" = "$IN_FRAMES" ]
	check json-frames-out [ "$(jf "$J" .frames_out)" = "$IN_FRAMES" ]
	check json-identical-true [ "$(jf "$J" .identical)" = true ]
	check json-split-time jt "$J" '(.split_time | type) == "number" and .split_time >= 0'
	check json-merge-time jt "$J" '(.merge_time | type) == "number" and .merge_time >= 0'
	check json-no-retries jt "$J" '.retries == []'
	check json-output-has-the-frames [ "$(frames "$T/json.mp4")" = "$IN_FRAMES" ]
	check json-no-log-on-stderr [ ! -s "$T/json.err" ]
fi

# ---- --no-baseline: no sequential time, no speedup, still a correct output ----

run_master nobase --json --no-baseline -w 2 -s 1 -o "$T/nobase.mp4" "$T/clip.mp4"
J=$T/nobase.out
if [ "$rc" -ne 0 ] || ! json_one "$J"; then
	fail no-baseline-run "$(why nobase)"
else
	pass no-baseline-run
	check no-baseline-sequential-time-null jt "$J" 'has("sequential_time") and .sequential_time == null'
	check no-baseline-speedup-null jt "$J" 'has("speedup") and .speedup == null'
	check no-baseline-identical-null jt "$J" '.identical == null'
	check no-baseline-parallel-time jt "$J" '.parallel_time > 0'
	check no-baseline-frames [ "$(frames "$T/nobase.mp4")" = "$IN_FRAMES" ]
	check no-baseline-chroma-flat [ "$(sigstat "$T/nobase.mp4" UMAX max)" -le 130 ]
fi

# ---- more workers than segments: the one segment is split into frame-exact pieces ----

run_master fewsegs --json --no-baseline -w 8 -s 10 -o "$T/fewsegs.mp4" "$T/clip.mp4"
check more-workers-than-segments-ok [ "$rc" -eq 0 ]
check more-workers-than-segments-cores jt "$T/fewsegs.out" '.segments_processed == 8 and .cpu_cores_used == 8'
check more-workers-than-segments-frames [ "$(frames "$T/fewsegs.mp4")" = "$IN_FRAMES" ]

# ---- --quiet: nothing at all on success ----

run_master quiet -q --no-baseline -s 1 -o "$T/quiet.mp4" "$T/clip.mp4"
check quiet-exit-0 [ "$rc" -eq 0 ]
check quiet-says-nothing [ ! -s "$T/quiet.out" -a ! -s "$T/quiet.err" ]
check quiet-output-written [ "$(frames "$T/quiet.mp4")" = "$IN_FRAMES" ]

# ---- output names ----

mkdir -p "$T/names"
cp "$T/clip.mp4" "$T/names/my clip.mp4"
run_master defname --json --no-baseline -s 1 "$T/names/my clip.mp4"
check default-name-grayscale [ "$rc" -eq 0 -a -f "$T/names/my clip.grayscale.mp4" ]
check default-name-in-json [ "$(jf "$T/defname.out" .output_filename)" = "my clip.grayscale.mp4" ]
run_master defname_blur -q --no-baseline -s 1 --filter blur:sigma=3 "$T/names/my clip.mp4"
check default-name-with-params [ "$rc" -eq 0 -a -f "$T/names/my clip.blur-sigma3.mp4" ]
run_master defname_chain -q --no-baseline -s 1 --filter blur:sigma=3,grayscale "$T/names/my clip.mp4"
check default-name-chain [ "$rc" -eq 0 -a -f "$T/names/my clip.blur-sigma3+grayscale.mp4" ]
check default-name-nothing-else [ "$(ls "$T/names" | wc -l)" -eq 4 ]

mkdir -p "$T/o/sub"
cp "$T/clip.mp4" "$T/o/in.mp4"
run_master dash_o -q --no-baseline -s 1 -o "$T/o/sub/chosen.mp4" "$T/o/in.mp4"
check output-option-writes-there [ "$rc" -eq 0 -a "$(frames "$T/o/sub/chosen.mp4")" = "$IN_FRAMES" ]
check output-option-nothing-next-to-input [ "$(ls "$T/o")" = "$(printf 'in.mp4\nsub')" ]
check output-option-no-part-file [ "$(ls "$T/o/sub")" = chosen.mp4 ]

# a file name that looks like an option, after "--", is still just a file
(cd "$T/o" && cp in.mp4 ./-x.mp4 && timeout 120 "$MASTER" -q --no-baseline -s 1 -o dash.mp4 -- -x.mp4) \
	>"$T/dashfile.out" 2>"$T/dashfile.err"
check dash-file-name [ "$(frames "$T/o/dash.mp4")" = "$IN_FRAMES" ]

# ---- never overwrite the input ----

sum_before=$(md5sum < "$T/o/in.mp4")
run_master overwrite -q -o "$T/o/in.mp4" "$T/o/in.mp4"
check overwrite-refused [ "$rc" -ne 0 ]
check overwrite-says-why grep -qi overwrite "$T/overwrite.err"
run_master overwrite_alias -q -o "$T/o/sub/../in.mp4" "$T/o/in.mp4"
check overwrite-other-spelling-refused [ "$rc" -ne 0 ]
ln -s "$T/o/in.mp4" "$T/o/link.mp4"
run_master overwrite_link -q -o "$T/o/link.mp4" "$T/o/in.mp4"
check overwrite-through-symlink-refused [ "$rc" -ne 0 ]
check overwrite-input-untouched [ "$(md5sum < "$T/o/in.mp4")" = "$sum_before" ]

# ---- every option the command line parses is in its --help ----
# parsed SRC: the long options of SRC's getopt table
parsed() { sed -n '/static const struct option longopts/,/{ NULL, 0, NULL, 0 }/p' "$1" | grep -o '{ "[a-z-]*"' | tr -d '{ "'; }
# helped SRC ARGS...: the options parsed in SRC that `master ARGS... --help` does not list
helped() {
	local src=$1 o missing="" text; shift
	text=$("$MASTER" "$@" --help 2>&1)
	for o in $(parsed "$src"); do grep -q -- "--$o\b" <<<"$text" || missing="$missing --$o"; done
	[ "$(parsed "$src" | wc -l)" -gt 10 ] && [ -z "$missing" ] || { echo "not in --help:$missing"; return 1; }
}
check help-lists-every-option helped "$VR_ROOT/master/cli.c"
check serve-help-lists-every-option helped "$VR_ROOT/master/serve.c" serve
check help-has-start-end bash -c '"$1" --help | grep -q -- "--start T" && "$1" --help | grep -q -- "--end T"' _ "$MASTER"

check working-directories-removed tmp_clean
finish
