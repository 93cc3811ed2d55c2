#!/usr/bin/env bash
# The benchmark script (make bench) on a 2 s clip, one run: it finishes, writes its JSON and
# table where --out says (not over bench/results), and its ratios are the ones its README
# explains (ours/peer, the bound from the sequential runs, the efficiency); so does its
# --corpus mode, on the same clip instead of the corpus. Not a timing test:
# no number here is compared with a speed.
. "$(dirname "$0")/lib.sh"

gen_clip "$T/two.mp4" 2
results=$VR_ROOT/bench/results/bench.json
before=$(stat -c %Y "$results" 2>/dev/null || echo none)

rc=0
(cd "$T" && timeout -k 5 170 "$VR_ROOT/scripts/bench" --runs 1 --clip two.mp4 --out out) \
	> "$T/bench.out" 2> "$T/bench.err" || rc=$?
check "runs to the end (exit 0)" [ "$rc" = 0 ]
j=$T/out/bench.json
check "--clip and --out are read from where the command was typed" [ -s "$j" ]
check "bench/results is left alone" [ "$(stat -c %Y "$results" 2>/dev/null || echo none)" = "$before" ]
check "one row per filter, for the clip named" jt "$j" \
	'[.rows[] | select(.clip == "two.mp4") | .filter] == ["grayscale", "blur"]'
check "every time measured" jt "$j" \
	'all(.rows[]; .ours > 0 and .peer > 0 and .limit > 0 and .transcode_cpu > 0 and .sequential_time > 0)'
check "ours/peer is ours over peer" jt "$j" \
	'all(.rows[]; (.ours_over_peer - .ours / .peer) | fabs < 1e-9)'
check "the bound is the sequential runs' decode + encode CPU over the cores, over peer" jt "$j" \
	'all(.rows[]; (.best_ours_over_peer - .transcode_cpu / .workers / .peer) | fabs < 1e-9)'
check "efficiency is the speedup over the workers" jt "$j" \
	'all(.rows[]; (.efficiency - .speedup / .workers) | fabs < 1e-9)'
check "phase shares add up to 100%" jt "$j" \
	'all(.rows[]; (.share.filter_pct + .share.decode_pct + .share.encode_pct - 100) | fabs < 1e-6)'
check "every phase share is between 0 and 100%" jt "$j" \
	'all(.rows[]; [.share.filter_pct, .share.decode_pct, .share.encode_pct] | all(. >= 0 and . <= 100))'
check "where the time went: five parts, none negative, adding up to ours (one run)" jt "$j" \
	'all(.rows[]; .ours as $o | .breakdown | ([.before_first_worker, .all_busy, .imbalance_wait, .join_tail, .outside_job] | all(. >= 0) and ((add - $o) | fabs < 1e-6)))'
check "the load average is recorded with each row" jt "$j" 'all(.rows[]; .load | test("^[0-9.]+ [0-9.]+ [0-9.]+$"))'
check "both tables (ratios, where the time went) have a row per filter" [ "$(grep -c '^| two.mp4 | \(grayscale\|blur\) |' "$T/out/bench.md")" = 4 ]
check "and is printed" grep -q '^| two.mp4 | blur |' "$T/bench.out"

# --corpus on the same clip, one pair, one filter: the row, its ratio and the corpus summary
rc=0
(cd "$T" && timeout -k 5 170 "$VR_ROOT/scripts/bench" --corpus --runs 1 --filters grayscale --clip two.mp4 --out corpus) \
	> "$T/corpus.out" 2> "$T/corpus.err" || rc=$?
check "--corpus runs to the end (exit 0)" [ "$rc" = 0 ]
c=$T/corpus/corpus.json
check "--corpus: one row for the clip named" jt "$c" '[.rows[] | [.clip, .filter]] == [["two.mp4", "grayscale"]]'
check "--corpus: ours/peer of one pair is ours over peer" jt "$c" \
	'all(.rows[]; .ours > 0 and .peer > 0 and ((.ours_over_peer / (.ours / .peer) - 1) | fabs < 1e-4))'
check "--corpus: frames out equal frames in, imbalance a fraction" jt "$c" \
	'all(.rows[]; .frames_in == 60 and .frames_out == 60 and .imbalance >= 0 and .imbalance < 1 and .first_start >= 0 and .join_tail > 0)'
check "--corpus: where the time went adds up to ours (one pair)" jt "$c" \
	'all(.rows[]; .ours as $o | .breakdown | ([.before_first_worker, .all_busy, .imbalance_wait, .join_tail, .outside_job] | all(. >= 0) and ((add - $o) | fabs < 1e-6)))'
check "--corpus: CPU of both sides and the load recorded" jt "$c" \
	'all(.rows[]; .ours_cpu > 0 and .peer_cpu > 0 and .ours_sys >= 0 and .peer_sys >= 0 and (.load | test("^[0-9.]+ [0-9.]+$")))'
check "--corpus: the piece that ended last, for each run, one of the clip's" jt "$c" \
	'all(.rows[]; (.last_piece | length) == 1 and (.last_piece[0] | type) == "number" and .last_piece[0] >= 0 and .last_piece[0] < .pieces)'
check "--corpus: the table shows it beside the imbalance" grep -Eq '^\| two\.mp4 \| grayscale \|.*% \([0-9]+\) \|' "$T/corpus.out"
check "--corpus: median and worst over the corpus" jt "$c" '.median_ours_over_peer == .rows[0].ours_over_peer and .worst_ours_over_peer == .rows[0].ours_over_peer'
check "--corpus: the table is printed" grep -q '^| two.mp4 | grayscale |' "$T/corpus.out"

rc=0
"$VR_ROOT/scripts/bench" --clip "$T/missing.mp4" > /dev/null 2> "$T/bad.err" || rc=$?
check "a missing --clip is refused (exit 2)" [ "$rc" = 2 ]
check "and named" grep -q "missing.mp4" "$T/bad.err"
rc=0
"$VR_ROOT/scripts/bench" --runs x > /dev/null 2> "$T/bad.err" || rc=$?
check "a bad --runs is refused (exit 2)" [ "$rc" = 2 ]
finish
