#!/usr/bin/env bash
# The command line around the render: every output mistake refused before any work, in one
# line (-o -, a directory, an existing file without -y/-n), default names that carry the
# parameters, one pass by default (--compare for the baseline), several inputs in one run,
# and --json answering with exactly one object whatever happens.
. "$(dirname "$0")/lib.sh"
private_tmp

gen_clip "$T/clip.mp4" 1 || { fail setup "cannot generate the test clip"; finish; }
IN_FRAMES=$(frames "$T/clip.mp4")

# refused NAME CODE PATTERN ARGS...: exit CODE, stderr exactly one line matching PATTERN (so no
# render started: it would have logged the input first), stdout empty, no working directory
refused() {
	local name=$1 code=$2 pat=$3; shift 3
	run_master "$name" "$@"
	if [ "$rc" -ne "$code" ]; then
		fail "$name" "want exit $code, $(why "$name")"
	elif [ "$(wc -l < "$T/$name.err")" -ne 1 ] || ! grep -Eq -- "$pat" "$T/$name.err"; then
		fail "$name" "want one line matching '$pat', got: $(head -c 400 "$T/$name.err")"
	elif [ -s "$T/$name.out" ]; then
		fail "$name" "stdout not empty: $(head -c 200 "$T/$name.out")"
	elif ! tmp_clean; then
		fail "$name" "a working directory was made: the work started"
	else
		pass "$name"
	fi
}

# ---- -o mistakes: refused before the work ----

refused stdout-refused 2 '^master: cannot write the output to stdout \(-o -\)' -o - "$T/clip.mp4"
mkdir -p "$T/dir"
refused directory-refused 2 "^master: the output '$T/dir' is a directory" -o "$T/dir" "$T/clip.mp4"
refused trailing-slash-refused 2 'is a directory' -o "$T/newdir/" "$T/clip.mp4"
check directory-left-empty [ -z "$(ls -A "$T/dir")" ]

# ---- an existing output: refused unless -y; -n never overwrites ----

echo precious > "$T/exists.mp4"
refused exists-refused 1 "^master: the output $T/exists.mp4 already exists: -y overwrites it, -n never does$" \
	-o "$T/exists.mp4" "$T/clip.mp4"
refused exists-refused-with-n 1 'already exists: not overwriting it \(-n\)' -n -o "$T/exists.mp4" "$T/clip.mp4"
check exists-untouched [ "$(cat "$T/exists.mp4")" = precious ]
run_master exists_y -q -y -s 1 -o "$T/exists.mp4" "$T/clip.mp4"
check exists-overwritten-with-y [ "$rc" -eq 0 -a "$(frames "$T/exists.mp4")" = "$IN_FRAMES" ]
# the default name is checked the same way
cp "$T/clip.mp4" "$T/dir/in.mp4"
run_master first -q -s 1 "$T/dir/in.mp4"
check default-name-first-run [ "$rc" -eq 0 -a -f "$T/dir/in.grayscale.mp4" ]
refused default-name-exists-refused 1 'in.grayscale.mp4 already exists' -s 1 "$T/dir/in.mp4"

# ---- default names carry the parameters: two renders never land on one file ----

run_master sigma5 -q -s 1 -f blur:sigma=5 "$T/dir/in.mp4"
run_master sigma1 -q -s 1 -f blur:sigma=1 "$T/dir/in.mp4"
check default-name-blur-sigma5 [ "$(frames "$T/dir/in.blur-sigma5.mp4")" = "$IN_FRAMES" ]
check default-name-blur-sigma1 [ "$(frames "$T/dir/in.blur-sigma1.mp4")" = "$IN_FRAMES" ]
run_master sigmadef -q -s 1 -f blur "$T/dir/in.mp4"
check default-name-default-params-left-out [ -f "$T/dir/in.blur.mp4" ]

# ---- one pass by default: no baseline, the real-time factor reported ----

run_master onepass -w 2 -s 1 -o "$T/onepass.mp4" "$T/clip.mp4"
if [ "$rc" -ne 0 ]; then
	fail one-pass-run "$(why onepass)"
else
	pass one-pass-run
	check one-pass-no-sequential-line sh -c "! grep -q '^sequential' '$T/onepass.out'"
	check one-pass-no-speedup sh -c "! grep -q 'speedup' '$T/onepass.out'"
	check one-pass-real-time-factor grep -Eq '^parallel +[0-9.]+ s  \(2 workers\)  [0-9.]+x real time$' "$T/onepass.out"
	check one-pass-rendered-once sh -c "! grep -q 'sequential:' '$T/onepass.err'"
fi
run_master onepass_json --json -w 2 -s 1 -o "$T/onepass.json.mp4" "$T/clip.mp4"
J=$T/onepass_json.out
check one-pass-json-no-baseline jt "$J" '.baseline == false and .sequential_time == null and .identical == null'
check one-pass-json-realtime-factor jt "$J" \
	'(.realtime_factor - .input.duration / .parallel_time | fabs) < 0.05 * .realtime_factor'
run_master w1 -w 1 -s 1 -o "$T/w1.mp4" "$T/clip.mp4"
check one-worker-no-speedup [ "$rc" -eq 0 ] && check one-worker-says-no-speedup sh -c "! grep -q speedup '$T/w1.out'"
run_master compare --json --compare -w 2 -s 1 -o "$T/compare.mp4" "$T/clip.mp4"
check compare-runs-the-baseline jt "$T/compare.out" '.sequential_time > 0 and .speedup > 0 and .identical == true'

# ---- --json: exactly one object, whatever happens ----

# json_failed NAME CODE PATTERN ARGS...: exit CODE, one object {"status":"failed","error":~PATTERN}
json_failed() {
	local name=$1 code=$2 pat=$3; shift 3
	run_master "$name" --json "$@"
	if [ "$rc" -ne "$code" ]; then
		fail "$name" "want exit $code, $(why "$name")"
	elif ! json_one "$T/$name.out"; then
		fail "$name" "stdout is not one JSON object: $(head -c 300 "$T/$name.out")"
	elif ! jq -e --arg p "$pat" '.status == "failed" and (.error | test($p))' "$T/$name.out" >/dev/null; then
		fail "$name" "want status failed and an error like '$pat': $(head -c 300 "$T/$name.out")"
	else
		pass "$name"
	fi
}
json_failed json-missing-file 1 'cannot read .*/nosuch.mp4' "$T/nosuch.mp4"
json_failed json-usage-error 2 'unknown option --bogus' --bogus "$T/clip.mp4"
json_failed json-usage-error-json-last 2 'crf' --crf 99 "$T/clip.mp4"
json_failed json-no-input 2 'no input file'
json_failed json-directory 2 'is a directory' -o "$T/dir" "$T/clip.mp4"
json_failed json-exists 1 'already exists' -o "$T/exists.mp4" "$T/clip.mp4"
printf 'not a video' > "$T/garbage.mp4"
json_failed json-not-a-video 1 'not a video' -o "$T/garbage.out.mp4" "$T/garbage.mp4"
json_failed json-preview-not-a-video 1 'not a video' --preview -o "$T/pv.png" "$T/garbage.mp4"
run_master pvjson --json --preview -o "$T/pv.png" "$T/clip.mp4"
check json-preview-one-object jt "$T/pvjson.out" '.status == "completed" and .output_path == "'"$T"'/pv.png"'
check json-preview-wrote-png [ "$(head -c 4 "$T/pv.png" | tail -c 3)" = PNG ]
run_master listjson --list-filters --json
check list-filters-json-one-object json_one "$T/listjson.out"
check list-filters-json-has-blur jt "$T/listjson.out" '[.filters[] | select(.name == "blur")] | length == 1'

# ---- several inputs: each rendered in turn, one line each; -o names a directory ----

mkdir -p "$T/many" "$T/out"
cp "$T/clip.mp4" "$T/many/a.mp4"
gen_clip "$T/many/b.mov" 1 || fail setup "cannot generate the second clip"
B_FRAMES=$(frames "$T/many/b.mov")
run_master many -w 2 -s 1 -o "$T/out" "$T/many/a.mp4" "$T/many/b.mov"
check many-exit-0 [ "$rc" -eq 0 ]
check many-one-line-each [ "$(wc -l < "$T/many.out")" -eq 2 ]
check many-line-a grep -Eq "^$T/many/a.mp4 -> $T/out/a.grayscale.mp4: $IN_FRAMES frames, [0-9.]+ s, [0-9.]+x real time$" "$T/many.out"
check many-line-b grep -Eq "^$T/many/b.mov -> $T/out/b.grayscale.mp4: $B_FRAMES frames" "$T/many.out"
check many-a-rendered [ "$(frames "$T/out/a.grayscale.mp4")" = "$IN_FRAMES" ]
check many-b-rendered [ "$(frames "$T/out/b.grayscale.mp4")" = "$B_FRAMES" ]
check many-nothing-else [ "$(ls "$T/out" | wc -l)" -eq 2 ]
# the second run finds both outputs there: refused before the first is rendered again
refused many-exists-refused 1 'a.grayscale.mp4 already exists' -o "$T/out" "$T/many/a.mp4" "$T/many/b.mov"
refused many-needs-a-directory 2 'with several inputs -o names a directory' \
	-o "$T/out/x.mp4" "$T/many/a.mp4" "$T/many/b.mov"
refused many-missing-input-before-any-work 1 "cannot read $T/many/nosuch.mp4" \
	-y -o "$T/out" "$T/many/a.mp4" "$T/many/nosuch.mp4"
# one input that fails: the others still rendered, exit 1, its line says why
run_master manyfail --json -y -s 1 -o "$T/out" "$T/many/a.mp4" "$T/garbage.mp4" "$T/many/b.mov"
check many-failure-exit-1 [ "$rc" -eq 1 ]
check many-failure-one-object json_one "$T/manyfail.out"
check many-failure-status jt "$T/manyfail.out" \
	'.status == "failed" and (.files | length) == 3 and ([.files[].status] == ["completed", "failed", "completed"])'
check many-failure-names-it jt "$T/manyfail.out" '.files[1].error | test("not a video")'
check many-failure-others-rendered [ "$(frames "$T/out/b.grayscale.mp4")" = "$B_FRAMES" ]

check working-directories-removed tmp_clean
finish
