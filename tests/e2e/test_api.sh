#!/usr/bin/env bash
# The HTTP API end to end: a real master, real uploads with curl, real renders.
. "$(dirname "$0")/api_lib.sh"
trap 'serve_stop; rm -rf "$T"' EXIT

gen_clip "$T/clip.mp4" 4
serve_start "$T/data" --workers 2 --segment-seconds 1 --max-upload-mb 5 || { fail startup; finish; }

http GET /health
check "health answers JSON" [ "$CODE" = 200 -a "$(jget "$BODY" status)" = healthy ]

# --- upload ---
upload "$T/clip.mp4"
check "upload answers 200" [ "$CODE" = 200 ]
check "upload gives a job id" [ ${#JOB} = 36 ]
check "upload message is the original's" [ "$(jget "$BODY" message)" = "Video uploaded successfully" ]
an=$(jget "$BODY" analytics)
for k in duration width height fps aspect_ratio total_frames has_audio file_size_mb bitrate_mbps codec format rotation; do
	[ "$(jget "$an" $k)" != undefined ] || fail "analytics has $k" "$an"
done
check "analytics are right" [ "$(jget "$an" width)x$(jget "$an" height)" = 320x240 -a "$(jget "$an" total_frames)" = 120 -a "$(jget "$an" has_audio)" = true ]
http GET /status/$JOB
check "status after upload is uploaded" [ "$(jget "$BODY" status)" = uploaded ]

http GET /download/$JOB
check "download before processing is 400 JSON" [ "$CODE" = 400 -a -n "$(jget "$BODY" error)" ]

# --- process ---
http POST /process -H 'Content-Type: application/json' -d "{\"job_id\":\"$JOB\",\"filter_type\":\"grayscale\"}"
check "process answers the original's message" [ "$CODE" = 200 -a "$(jget "$BODY" message)" = "Processing started" ]
http POST /process -H 'Content-Type: application/json' -d "{\"job_id\":\"$JOB\",\"filter_type\":\"blur\"}"
check "process twice is 409" [ "$CODE" = 409 ]

# status answers while the job runs: a master busy rendering would answer only once the job
# is over (an order, not a time: how fast it answers is scripts/load's business)
first=$(curl -s "$URL/status/$JOB" | jq -r .status)
bad=0
for _ in $(seq 20); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/status/$JOB")" = 200 ] || bad=$((bad + 1))
done
check "status answers while rendering (first answer '$first', $bad not 200)" \
	[ \( "$first" = queued -o "$first" = processing \) -a $bad -eq 0 ]

check "job completes" wait_status "$JOB" completed 90
http GET /status/$JOB
st=$BODY
check "status has measured times" node -e 'const o=JSON.parse(process.argv[1]); process.exit(o.sequential_time>0 && o.parallel_time>0 && o.speedup>0 && o.segments_processed>=2 && o.cpu_cores_used===2 && o.progress===100 && o.identical===true ? 0 : 1)' "$st"
check "status has a timeline per worker and segment" node -e 'const o=JSON.parse(process.argv[1]); const t=o.timeline; const w=new Set(t.filter(e=>e.phase==="parallel").map(e=>e.worker)); process.exit(t.length===2*o.segments_total && w.size===2 && t.every(e=>e.end>=e.start) ? 0 : 1)' "$st"
check "frames out equal frames in" [ "$(jget "$st" frames_out)" = 120 ]

curl -s -D "$T/dl.h" -o "$T/out.mp4" "$URL/download/$JOB"
check "download is an MP4" grep -qi '^content-type: video/mp4' "$T/dl.h"
check "download names the file" grep -qi '^content-disposition: attachment; filename="clip.grayscale.mp4"' "$T/dl.h"
check "downloaded video has all frames" [ "$(frames "$T/out.mp4")" = 120 ]
check "downloaded video has audio" has_audio "$T/out.mp4"
size=$(stat -c %s "$T/out.mp4")

# --- Range ---
http GET /download/$JOB -H 'Range: bytes=0-99'
check "range 0-99 is 206 with 100 bytes" [ "$CODE" = 206 -a "$(header Content-Range)" = "bytes 0-99/$size" -a "$(header Content-Length)" = 100 ]
http GET /download/$JOB -H 'Range: bytes=-100'
check "suffix range is the last 100 bytes" [ "$CODE" = 206 -a "$(header Content-Range)" = "bytes $((size - 100))-$((size - 1))/$size" ]
http GET /download/$JOB -H "Range: bytes=$size-"
check "range beyond the end is 416" [ "$CODE" = 416 -a "$(header Content-Range)" = "bytes */$size" ]
http GET /download/$JOB -H 'Range: bytes=5-2'
check "reversed range is ignored (200)" [ "$CODE" = 200 ]
# what a browser's <video> asks first: the whole file, a 200, and Content-Range only on a 206
http GET /download/$JOB -H 'Range: bytes=0-'
check "range 0- is a 200 with the whole file" [ "$CODE" = 200 -a "$(header Content-Length)" = "$size" ]
check "a 200 carries no Content-Range" [ -z "$(header Content-Range)" ]

# --- events ---
ev=$(curl -s -N --max-time 10 "$URL/events/$JOB")
check "events of a finished job: one status event, then the stream ends" bash -c '[ "$(grep -c "^event: status" <<<"$1")" = 1 ] && grep -q "\"status\":\"completed\"" <<<"$1"' _ "$ev"

# --- preview ---
curl -s -D "$T/pv.h" -o "$T/pv.png" "$URL/preview/$JOB?filter=grayscale&t=1"
check "preview is a PNG" bash -c 'grep -qi "^content-type: image/png" "$1" && [ "$(head -c 4 "$2" | tail -c 3)" = PNG ]' _ "$T/pv.h" "$T/pv.png"
check "preview of grayscale is grey" [ "$(ffmpeg -nostdin -v error -i "$T/pv.png" -vf format=yuv444p,signalstats,metadata=mode=print:file=- -f null - | sed -n 's/.*UMAX=//p')" -le 129 ]
http GET "/preview/$JOB?filter=nope"
check "preview of an unknown filter is 400" [ "$CODE" = 400 ]
http GET "/preview/$JOB?t=abc"
check "preview at a bad time is 400" [ "$CODE" = 400 ]

# --- events while a job runs: pushed as it goes, ending with the final status ---
upload "$T/clip.mp4"
evjob=$JOB
http POST /process -H 'Content-Type: application/json' -d "{\"job_id\":\"$evjob\",\"filter_type\":\"invert\"}"
curl -s -N --max-time 60 "$URL/events/$evjob" > "$T/events.txt"; evrc=$?
check "the event stream ends by itself after the job" [ $evrc = 0 ]
check "events were pushed during the run" [ "$(grep -c '^event: status' "$T/events.txt")" -ge 3 ]
check "the last event says completed" bash -c 'grep "^data:" "$1" | tail -1 | grep -q "\"status\":\"completed\""' _ "$T/events.txt"

# --- errors ---
http GET /status/00000000-0000-4000-8000-000000000000
check "unknown job is 404 JSON" [ "$CODE" = 404 -a -n "$(jget "$BODY" error)" ]
http GET /status/..%2F..%2Fetc%2Fpasswd
check "traversal id is 404" [ "$CODE" = 404 ]
http GET "/download/$(head -c 10000 /dev/zero | tr '\0' a)"
check "10 KB id is 404" [ "$CODE" = 404 ]
http POST /process -H 'Content-Type: application/json' -d '{"job_id":'
check "malformed JSON is 400" [ "$CODE" = 400 ]
http POST /process -H 'Content-Type: application/json' -d '[1,2]'
check "JSON of the wrong type is 4xx" [ "$CODE" = 422 -o "$CODE" = 400 ]
http POST /process -H 'Content-Type: application/json' -d "{\"job_id\":\"$JOB\",\"filter_type\":\"nope\"}"
check "unknown filter is 400" [ "$CODE" = 400 ]
http POST /process -H 'Content-Type: application/json' -d "{\"job_id\":\"$JOB\",\"filter_type\":\"blur\",\"params\":{\"sigma\":1000}}"
check "parameter out of range is 400 naming it" [ "$CODE" = 400 ] 
grep -q sigma <<<"$BODY" || fail "the error names sigma" "$BODY"
http POST /process -H 'Content-Type: application/json' -d '{"job_id":"00000000-0000-4000-8000-000000000000","filter_type":"blur"}'
check "process of an unknown job is 404" [ "$CODE" = 404 ]
http PUT /status/$JOB
check "wrong method is 405" [ "$CODE" = 405 ]

head -c 6000000 /dev/urandom > "$T/big.mp4"
http POST /upload -F "file=@$T/big.mp4"
check "oversized upload is 413" [ "$CODE" = 413 -a -n "$(jget "$BODY" error)" ]
# an upload head reaches evhttp rewritten, with Content-Length: 0 added: one just under the
# 16 KiB limit still gets our JSON answer, never evhttp's HTML 400 (found by fuzz/upload_head)
near=ok
for n in $(seq 16200 2 16280); do
	http POST /upload -H 'Content-Type: multipart/form-data; boundary=abc' -H "X-Pad: $(printf "%${n}s" | tr ' ' a)"
	case "$CODE" in 411|431) [ -n "$(jget "$BODY" error)" ] || near="$n: $CODE $BODY" ;; *) near="$n: $CODE" ;; esac
	[ "$near" = ok ] || break
done
if [ "$near" = ok ]; then pass "upload heads at the 16 KiB limit get a JSON 411 or 431"
else fail "upload heads at the 16 KiB limit get a JSON 411 or 431" "$near"; fi
printf 'hello, not a video\n' > "$T/text.mp4"
http POST /upload -F "file=@$T/text.mp4"
check "text named .mp4 is 415 with a reason" [ "$CODE" = 415 -a -n "$(jget "$BODY" detail)" ]
check "the reason names the uploaded file, not our spool" bash -c 'grep -q "text.mp4" <<<"$1" && ! grep -q spool <<<"$1"' _ "$BODY"
ffmpeg -nostdin -v error -f lavfi -i sine=duration=1 -c:a aac "$T/audio.m4a"
http POST /upload -F "file=@$T/audio.m4a"
check "audio-only upload is 415" [ "$CODE" = 415 ]
grep -q "no video stream" <<<"$BODY" || fail "the reason says no video stream" "$BODY"
printf '#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n%s\n#EXT-X-ENDLIST\n' "$T/clip.mp4" > "$T/list.m3u8"
http POST /upload -F "file=@$T/list.m3u8;filename=list.mp4"
check "an HLS playlist is refused, not followed" [ "$CODE" = 415 -o "$CODE" = 422 ]
check "nothing of refused uploads is kept" [ "$(ls "$T/data/jobs" | wc -l)" = 2 -a "$(ls "$T/data/spool" | wc -l)" = 0 ]

# --- CORS ---
http GET /health -H 'Origin: http://localhost:5173'
check "loopback origin gets CORS" [ "$(header Access-Control-Allow-Origin)" = http://localhost:5173 ]
http GET /health -H 'Origin: http://evil.example'
check "other origins get no CORS" [ -z "$(header Access-Control-Allow-Origin)" ]
http OPTIONS /process -H 'Origin: http://127.0.0.1:3000' -H 'Access-Control-Request-Method: POST'
check "preflight answers" [ "$CODE" = 204 -a "$(header Access-Control-Allow-Origin)" = http://127.0.0.1:3000 ]

# --- jobs, cleanup ---
upload "$T/clip.mp4"
second=$JOB
http GET /jobs
check "jobs lists the newest first" node -e 'const j=JSON.parse(process.argv[1]).jobs; process.exit(j.length===3 && j[0].job_id===process.argv[2] ? 0 : 1)' "$BODY" "$second"
http DELETE /cleanup/$second
check "cleanup answers 200" [ "$CODE" = 200 ]
http GET /status/$second
check "a cleaned job is gone" [ "$CODE" = 404 -a ! -e "$T/data/jobs/$second" ]

# --- restart in the middle of a job ---
gen_clip "$T/long.mp4" 12
upload "$T/long.mp4"
long=$JOB
http POST /process -H 'Content-Type: application/json' -d "{\"job_id\":\"$long\",\"filter_type\":\"blur\",\"baseline\":false}"
wait_status "$long" processing 20
sleep 1.5
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null; SERVE_PID=
serve_start "$T/data" --workers 2 --segment-seconds 1 --max-upload-mb 5
check "a job running at a crash resumes and completes" wait_status "$long" completed 120
curl -s -o "$T/long.out.mp4" "$URL/download/$long"
check "the resumed job's output has every frame" [ "$(frames "$T/long.out.mp4")" = 360 ]
http GET /status/$JOB
check "completed jobs survive a restart" [ "$CODE" = 200 ]

# --- graceful shutdown leaves no child behind ---
http POST /process -H 'Content-Type: application/json' -d "{\"job_id\":\"$long\",\"filter_type\":\"grayscale\"}"
wait_status "$long" processing 20
sleep 1
kids=$(pgrep -P "$SERVE_PID" | tr '\n' ' ')
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"; rc=$?; SERVE_PID=
sleep 0.5
left=0
for k in $kids; do kill -0 "$k" 2>/dev/null && left=$((left + 1)); done
check "SIGTERM: exit 0 and no worker or ffmpeg left" [ $rc = 0 -a $left = 0 -a -n "$kids" ]
no_stray() { ! pgrep -a ffmpeg | grep -F "$T/data/jobs" || { tail -5 "$T/serve.log"; false; }; }
check "no stray ffmpeg for this data dir" no_stray
# --- old jobs expire (--keep-hours) ---
sleep 1.5
serve_start "$T/data" --workers 2 --segment-seconds 1 --keep-hours 0.0003
http GET /status/$long
check "jobs older than --keep-hours are removed with their files" [ "$CODE" = 404 -a ! -e "$T/data/jobs/$long" ]
# --- an idle server stops at once: the loop ends when no child is left, not after the 3 s
# grace that workers get to stop theirs ---
n0=$(wc -l <"$T/serve.log")
kill -INT "$SERVE_PID"; wait "$SERVE_PID"; rc=$?; SERVE_PID=
stopped_at_once() { [ "$rc" = 0 ] && tail -n +$((n0 + 1)) "$T/serve.log" | grep -q "stopped: no child left"; }
check "SIGINT on an idle server: exit 0, stopped as no child was left (not by the grace)" stopped_at_once
finish
