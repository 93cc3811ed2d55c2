#!/usr/bin/env bash
# A worker's memory does not grow with the length of its segment: one segment of 2 s and one
# of 20 s (600 frames of 112 KiB: 66 MiB if frames were kept) peak within 2 MiB of each other.
source "$(dirname "$0")/lib.sh"

declare -A rss
gen_clip "$T/short.mp4" 2
gen_clip "$T/long.mp4" 20
for c in short long; do
	"$MASTER" -q --json --no-baseline -w 1 -s 60 -o "$T/$c.out.mp4" "$T/$c.mp4" > "$T/$c.json" ||
		fail "render $c" "exit $?"
	rss[$c]=$(jget "$(cat "$T/$c.json")" worker_max_rss_kb)
	segs=$(jget "$(cat "$T/$c.json")" segments_processed)
	check "$c clip is one segment" [ "$segs" = 1 ]
done
echo "worker peak RSS: ${rss[short]} kB for 2 s, ${rss[long]} kB for 20 s"
check "worker reports its peak RSS" [ "${rss[short]}" -gt 0 ]
check "worker peak RSS does not grow with the segment's length" near "${rss[long]}" "${rss[short]}" 2048
finish
