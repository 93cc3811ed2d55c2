#!/usr/bin/env bash
# The result as HLS while it renders (master/hls.c): the CLI's --hls DIR, whose playlist and
# pieces only ever appear whole, and GET /stream/{id}/..., whose playlist lists a first piece
# before the job completes and plays every frame of the input once it has.
. "$(dirname "$0")/api_lib.sh"
trap 'serve_stop; for p in ${mpid:-} ${wpid:-}; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT

gen_clip "$T/clip.mp4" 6 || { fail stream-clip "ffmpeg could not generate the clip"; finish; }
in_frames=$(frames "$T/clip.mp4")

# ---- the CLI: --hls DIR, watched while it renders ----
hls=$T/hls
mkdir -p "$hls"
# Every change to the directory, from the kernel (inotify, through node's fs.watch): a file
# written in place shows "change" events under its own name; one renamed into place only
# "rename" events.
node -e 'require("fs").watch(process.argv[1], (ev, name) => console.log(ev, name))' "$hls" >"$T/watch.txt" &
wpid=$!
sleep 0.3
timeout -k 5 180 "$MASTER" "$T/clip.mp4" --no-baseline -w 2 -s 1.5 --hls "$hls" -o "$T/cli.mp4" \
	>"$T/cli.out" 2>"$T/cli.err" </dev/null &
mpid=$!
# Each snapshot: every piece the playlist lists must be there whole (ffprobe decodes exactly
# the frames its #EXTINF says).
half=""
while kill -0 "$mpid" 2>/dev/null; do
	if [ -f "$hls/index.m3u8" ]; then
		cp "$hls/index.m3u8" "$T/snap.m3u8"
		while read -r d name; do
			n=$(frames "$hls/$name" 2>/dev/null)
			want=$(awk -v d="$d" 'BEGIN { printf "%d", d * 30 + 0.5 }')
			[ "$n" = "$want" ] || half="$half $name listed with ${n:-no} frames of $want;"
		done < <(awk -F'[:,]' '/^#EXTINF/ { d = $2; next } /^seg_/ { print d, $0 }' "$T/snap.m3u8")
	fi
	sleep 0.02
done
rc=0
wait "$mpid" || rc=$?
mpid=
sleep 0.3
kill "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null
check "cli --hls: the render succeeds" [ $rc -eq 0 ]
check "cli --hls: the playlist ends (#EXT-X-ENDLIST, EVENT type)" \
	bash -c 'grep -q "^#EXT-X-ENDLIST" "$1" && grep -q "^#EXT-X-PLAYLIST-TYPE:EVENT" "$1"' _ "$hls/index.m3u8"
n=$(frames "$hls/index.m3u8")
check "cli --hls: the playlist plays every frame of the input ($n of $in_frames)" [ "$n" = "$in_frames" ]
check "cli --hls: the playlist has the audio" has_audio "$hls/index.m3u8"
check "cli --hls: a listed piece was always whole:$half" [ -z "$half" ]
inplace=$(grep -E '^change (index\.m3u8|seg_[0-9]{5}\.ts)$' "$T/watch.txt" | sort -u | tr '\n' ' ')
check "cli --hls: the playlist and pieces appear by rename, never written in place: ${inplace:-ok}" \
	bash -c 'grep -q "^rename seg_00000.ts$" "$1" && [ -z "$2" ]' _ "$T/watch.txt" "$inplace"
check "cli --hls: nothing but the playlist and pieces is left: $(ls -A "$hls" | tr '\n' ' ')" \
	bash -c '[ -z "$(ls -A "$1" | grep -v -E "^(index\.m3u8|seg_[0-9]{5}\.ts)$")" ]' _ "$hls"
check "cli --hls: the report names the stream" grep -q "^stream .*index.m3u8" "$T/cli.out"

# ---- playback order: the first piece is handed out first, so the stream can start ----
# keyframes at 0, 1.6 and 4 s: pieces are planned on frame numbers, the first always first
if gen_clip "$T/kf.mp4" 6 -g 600 -force_key_frames 0,1.6,4; then
	run_master order "$T/kf.mp4" --no-baseline -w 2 -s 1.5 --json -o "$T/kf.out.mp4"
	first=$(jq -c '[.segments_total > 1, .timeline[0].segment]' "$T/order.out" 2>/dev/null)
	check "the first piece is rendered first ([several pieces, first started] = $first)" [ "$first" = "[true,0]" ]
else
	fail "order-clip" "ffmpeg could not generate the clip"
fi

# ---- the API: /stream/{id}/..., and playable_seconds in the events ----
# The render's join stops until the events have shown a playable part: on a fast machine the
# whole render could otherwise end between two events. Only the last job here joins.
stopping_ffmpeg '*concat.txt*' "$T/join.pid"
trap 'release_ffmpeg; serve_stop; for p in ${mpid:-} ${wpid:-}; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT
PATH="$T/bin:$PATH" serve_start "$T/data" || { fail stream-serve "master serve did not start"; finish; }
http GET /stream/00000000-0000-4000-8000-000000000000/index.m3u8
check "GET /stream of an unknown job is a JSON 404" bash -c '[ "$1" = 404 ] && grep -q "\"error\"" <<<"$2"' _ "$CODE" "$BODY"
http GET /stream/not-a-job/index.m3u8
check "GET /stream of something not a job id is 404" [ "$CODE" = 404 ]

upload "$T/clip.mp4"
check "upload the clip" [ -n "$JOB" ]
http GET "/stream/$JOB/index.m3u8"
check "GET /stream of a job not rendered yet is 404" [ "$CODE" = 404 ]
http GET "/stream/$JOB/output.mp4"
check "GET /stream of a file that is not the stream's is 404" [ "$CODE" = 404 ]
http GET "/stream/$JOB/..%2Fjobs.db"
check "GET /stream of a path out of the stream is 404" [ "$CODE" = 404 ]

curl -s -N --max-time 120 "$URL/events/$JOB" >"$T/events.txt" &
evpid=$!
sleep 0.3
http POST /process -H 'Content-Type: application/json' \
	-d "{\"job_id\": \"$JOB\", \"filter_type\": \"grayscale\", \"workers\": 2, \"baseline\": false, \"segment_seconds\": 1.5}"
check "POST /process" [ "$CODE" = 200 ]
# the join stopped, the job cannot complete: wait (at most 120 s) for a playable event
playable_seen() { sed -n 's/^data: //p' "$T/events.txt" |
	jq -e -s 'any(.[]; .status == "processing" and (.playable_seconds // 0) > 0)' >/dev/null 2>&1; }
# and for the join itself to be held: it starts, early or after the last piece, in any case
for _ in $(seq 1200); do
	[ -s "$T/join.pid" ] && playable_seen && break
	kill -0 "$evpid" 2>/dev/null || break
	sleep 0.1
done
check "the join was held while the events were read (this test's own guard)" [ -s "$T/join.pid" ]
release_ffmpeg
wait "$evpid"
# The events in order: one still processing that has a playable part comes before the
# completed one, and the playlist was then already serving it.
order=$(sed -n 's/^data: //p' "$T/events.txt" | node -e '
	const lines = require("fs").readFileSync(0, "utf8").trim().split("\n").map((l) => JSON.parse(l));
	const early = lines.findIndex((s) => s.status === "processing" && s.playable_seconds > 0);
	const done = lines.findIndex((s) => s.status === "completed");
	console.log(early >= 0 && done > early ? "ok" : `playable at event ${early}, completed at event ${done} of ${lines.length}`);
	if (done >= 0) console.log(lines[done].playable_seconds, lines[done].realtime_factor);')
check "events: a playable part while processing, before completed ($(head -1 <<<"$order"))" [ "$(head -1 <<<"$order")" = ok ]
read -r playable rtf < <(tail -1 <<<"$order")
check "status: playable_seconds is the whole video when completed ($playable)" near "$playable" 6 0.04
check "status: a real-time factor is reported ($rtf)" gt "$rtf" 0
http GET "/stream/$JOB/index.m3u8"
check "GET /stream/{id}/index.m3u8 is an HLS playlist" \
	bash -c '[ "$1" = 200 ] && grep -qi "mpegurl" <<<"$2" && grep -q "^#EXT-X-ENDLIST" <<<"$3"' _ "$CODE" "$(header Content-Type)" "$BODY"
http GET "/stream/$JOB/seg_00000.ts"
check "GET /stream/{id}/seg_00000.ts is MPEG-TS" bash -c '[ "$1" = 200 ] && [ "$2" = video/mp2t ]' _ "$CODE" "$(header Content-Type)"
n=$(frames "$URL/stream/$JOB/index.m3u8")
check "GET /stream: the playlist plays every frame of the input ($n of $in_frames)" [ "$n" = "$in_frames" ]
finish
