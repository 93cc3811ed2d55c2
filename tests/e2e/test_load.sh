#!/usr/bin/env bash
# The master under load while a job renders: wrk on /status and /health, 20 uploads at once,
# slow clients (a stalled head, a trickled head, a stalled and a trickled upload body, a
# trickled JSON body). What is asserted is what clients see (answers, errors, timeouts), never
# a speed: the numbers are printed, and scripts/load runs the same for longer and reports them.
. "$(dirname "$0")/load_lib.sh"
trap 'serve_stop; rm -rf "$T"' EXIT
command -v wrk >/dev/null || { fail "wrk installed" "run scripts/install-deps"; finish; }

WRK_SECS=${VR_LOAD_SECS:-4}
gen_clip "$T/long.mp4" 90
gen_clip "$T/a.mp4" 1
gen_clip "$T/b.mp4" 2 -s 160x120
printf 'not a video\n' >"$T/text.mp4"
head -c 20000 "$T/long.mp4" >"$T/cut.mp4"
rc=0; "$MASTER" serve --timeout 0 >/dev/null 2>&1 || rc=$?
check "serve --timeout 0 is a usage error" [ $rc = 2 ]
# The job's first join waits (SIGSTOP) until wrk has ended, however fast the machine renders
stopping_ffmpeg '*concat.txt*' "$T/join.pid"
trap 'release_ffmpeg; serve_stop; rm -rf "$T"' EXIT
PATH="$T/bin:$PATH" serve_start "$T/data" --workers 2 --timeout 2 || { fail startup; finish; }

# --- wrk while a job renders ---
upload "$T/long.mp4"
long=$JOB
frames_in=$(jget "$(jget "$BODY" analytics)" total_frames)
http POST /process -H 'Content-Type: application/json' -d "{\"job_id\":\"$long\",\"filter_type\":\"blur\"}"
check "a long job starts" [ "$CODE" = 200 ]
wait_status "$long" processing 10
rss0=$(rss_kb "$SERVE_PID")

for ep in "/status/$long" /health; do
	name=${ep%%/"$long"}
	if ! wrk_run "$URL$ep" "$WRK_SECS"; then
		fail "wrk $name runs" "$(tail -3 "$T/wrk.out")"
		continue
	fi
	echo "wrk $name: $WRK_REQS requests, $WRK_RPS req/s, p99 $WRK_P99 ms, $WRK_BAD errors"
	check "wrk $name: no error and no non-2xx answer" [ "$WRK_BAD" = 0 ]
	check "wrk $name: answered requests" [ "${WRK_REQS:-0}" -gt 0 ]
done
http GET /status/$long
check "the job was still rendering when wrk ended" [ "$(jget "$BODY" status)" = processing ]
release_ffmpeg

# --- 20 uploads at once: 12 valid (two clips), 8 refused (text, truncated) ---
jobs0=$(ls "$T/data/jobs" | wc -l)
upload_many 20 "$T/a.mp4" "$T/text.mp4" "$T/b.mp4" "$T/a.mp4" "$T/cut.mp4"
echo "20 uploads at once: $UPLOAD_SECS s"
upload_many_check "$T/a.mp4" "$T/b.mp4"
name="20 uploads at once: every valid one is 200, uploaded and byte-identical; every invalid one 4xx"
if [ "$UP_OK" = 12 ] && [ "$UP_REFUSED" = 8 ]; then pass "$name"; else fail "$name" "upload:status$UP_BAD"; fi
check "20 uploads at once: one job per valid upload, nothing spooled left" \
	[ "$(ls "$T/data/jobs" | wc -l)" = $((jobs0 + 12)) -a -z "$(ls -A "$T/data/spool")" ]

# --- slow clients (--timeout 2) ---
# an event stream of a waiting job is quiet but not idle: pings keep it open past the timeout
quiet=$(jf "$T/up.0.json" .job_id)
{ curl -s -N --max-time 5 "$URL/events/$quiet" >"$T/ev.out"; echo $? >"$T/ev.rc"; } &
ev_pid=$!
multipart_form "$(head -c 3000 /dev/zero | tr '\0' x)"
slow_client head-stall $'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n' "" 0
slow_client head-trickle $'GET /health HTTP/1.1\r\n' "X-Slow: $(printf 'a%.0s' $(seq 40))" 0.5
slow_client upload-stall "$FORM_HEAD${FORM_BODY:0:1500}" "" 0
slow_client upload-trickle "$FORM_HEAD" "$FORM_BODY" 0.5
json="{\"job_id\":\"$long\",\"filter_type\":\"grayscale\"}"
slow_client json-trickle $'POST /process HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: '"${#json}"$'\r\n\r\n' "$json" 0.5
spooled=0
for _ in $(seq 200); do
	[ -n "$(ls -A "$T/data/spool")" ] && { spooled=1; break; }
	sleep 0.05
done
check "a stalled upload is spooled meanwhile" [ $spooled = 1 ]
slowest=0 bad=0
for _ in $(seq 5); do
	for ep in /health "/status/$long"; do
		r=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 30 "$URL$ep")
		[ "${r% *}" = 200 ] || bad=$((bad + 1))
		gt "${r#* }" "$slowest" && slowest=${r#* }
	done
done
echo "slowest /health or /status answer among 5 slow clients: $slowest s"
check "with 5 slow clients connected, /health and /status answer 200" [ $bad = 0 ]
check "slow clients all end" slow_wait head-stall head-trickle upload-stall upload-trickle json-trickle
for c in head-stall head-trickle upload-stall upload-trickle json-trickle; do
	echo "$c: $(slow_secs $c) s, status '$(slow_status $c)'"
done
# each ends after about --timeout (2 s), not when its 20 s of trickling would have
for c in head-stall head-trickle json-trickle; do
	check "$c: hung up on after the timeout" bash -c 's=$(cat "$1"); [ -n "$s" ] && awk -v s="$s" "BEGIN { exit !(s >= 1.5 && s < 8) }"' _ "$T/slow.$c.secs"
done
for c in upload-stall upload-trickle; do
	check "$c: answered 408 after the timeout" bash -c '[ "$1" = 408 ] && awk -v s="$2" "BEGIN { exit !(s >= 1.5 && s < 8) }"' _ "$(slow_status $c)" "$(slow_secs $c)"
done
check "the trickled upload is refused as too slow" grep -q 'too slow' "$T/slow.upload-trickle.resp"
check "nothing of the slow uploads is left in the spool" [ -z "$(ls -A "$T/data/spool")" ]
wait $ev_pid
check "a quiet event stream outlives --timeout (curl's own 5 s limit ends it)" \
	[ "$(cat "$T/ev.rc")" = 28 -a "$(grep -c '^: ping' "$T/ev.out")" -ge 3 ]

# --- the job under all that ---
check "the job completes" wait_status "$long" completed 120
http GET /status/$long
check "frames out equal frames in ($frames_in)" [ "$(jget "$BODY" frames_out)" = "$frames_in" ]
curl -s -o "$T/out.mp4" "$URL/download/$long"
check "the output has every frame" [ "$(frames "$T/out.mp4")" = "$frames_in" ]
rss1=$(rss_kb "$SERVE_PID")
echo "master RSS: $rss0 KiB before, $rss1 KiB after"
if [ -n "${VR_SANITIZED:-}" ]; then
	echo "SKIP master memory flat: ASan holds freed memory in quarantine"
else
	check "master memory flat (grew < 20 MB)" [ $((rss1 - rss0)) -lt 20480 ]
fi
http GET /health
check "the master still serves" [ "$CODE" = 200 ]
finish
