# Helpers for load and slow-client runs against a master started with serve_start
# (tests/e2e/test_load.sh asserts on them; scripts/load reports them for a longer run).
# shellcheck source=api_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/api_lib.sh"

# rss_kb PID: resident memory of a process in KiB
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }

# wrk_run URL SECONDS [CONNECTIONS]: one wrk thread; sets WRK_REQS, WRK_RPS, WRK_P99 (ms) and
# WRK_BAD (non-2xx/3xx answers plus socket errors: connect, read, write, timeout); the full
# report is in $T/wrk.out
wrk_run() {
	local url=$1 secs=$2 conns=${3:-8}
	wrk -t1 -c"$conns" -d"${secs}s" --latency "$url" >"$T/wrk.out" 2>&1 || return 1
	WRK_REQS=$(awk '/ requests in / { print $1 }' "$T/wrk.out")
	WRK_RPS=$(awk '$1 == "Requests/sec:" { printf "%.0f", $2 }' "$T/wrk.out")
	# "99%  11.58ms": wrk picks the unit (us, ms, s)
	WRK_P99=$(awk '$1 == "99%" { v = $2; m = v ~ /us$/ ? v / 1000 : v ~ /ms$/ ? v + 0 : v * 1000;
		printf "%.1f", m }' "$T/wrk.out")
	WRK_BAD=$(awk '/Non-2xx or 3xx responses:/ { n += $NF }
		/Socket errors:/ { for (i = 3; i <= NF; i += 2) n += $(i + 1) + 0 }
		END { print n + 0 }' "$T/wrk.out")
	[ -n "$WRK_RPS" ] && [ -n "$WRK_P99" ]
}

# upload_many N FILE...: N uploads at once with curl, cycling through the FILEs; upload i
# leaves its file name in $T/up.i.src, its status in $T/up.i.code and its answer in $T/up.i.json;
# UPLOAD_SECS is the wall time of the whole batch
upload_many() {
	local n=$1 i t0; shift
	local files=("$@") pids=()
	t0=$EPOCHREALTIME
	for ((i = 0; i < n; i++)); do
		echo "${files[i % ${#files[@]}]}" >"$T/up.$i.src"
		curl -s -o "$T/up.$i.json" -w '%{http_code}' --max-time 60 \
			-F "file=@${files[i % ${#files[@]}]}" "$URL/upload" >"$T/up.$i.code" &
		pids+=($!)
	done
	wait "${pids[@]}"
	UPLOAD_SECS=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
}

# upload_many_check VIDEO...: after upload_many, counts in UP_OK the uploads of a VIDEO answered
# 200 whose job is "uploaded" and whose /input is byte-identical to what was sent, and in
# UP_REFUSED those of any other file answered 4xx with a reason; UP_BAD lists the rest (i:status)
upload_many_check() {
	local i src code id
	UP_OK=0 UP_REFUSED=0 UP_BAD=""
	for ((i = 0; ; i++)); do
		[ -e "$T/up.$i.src" ] || break
		src=$(cat "$T/up.$i.src") code=$(cat "$T/up.$i.code")
		if [[ " $* " == *" $src "* ]]; then
			id=$(jf "$T/up.$i.json" .job_id)
			curl -s -o "$T/in.$i" "$URL/input/$id"
			if [ "$code" = 200 ] && [ "$(curl -s "$URL/status/$id" | jq -r .status)" = uploaded ] &&
				cmp -s "$src" "$T/in.$i"; then
				UP_OK=$((UP_OK + 1))
				continue
			fi
		elif [ "$code" -ge 400 ] && [ "$code" -lt 500 ] && jt "$T/up.$i.json" '.detail | length > 0'; then
			UP_REFUSED=$((UP_REFUSED + 1))
			continue
		fi
		UP_BAD="$UP_BAD $i:$code"
	done
}

# slow_client NAME FIRST REST GAP [MAX]: in the background, connects to the master, sends
# FIRST at once, then REST one byte every GAP seconds (nothing more when REST is empty) until
# the server answers or hangs up, or MAX seconds (default 20) pass. Leaves what came back in
# $T/slow.NAME.resp and the seconds from connecting to the end of the answer (or the hang-up)
# in $T/slow.NAME.secs; a writer stopped by the server's close is expected.
slow_client() {
	local name=$1 first=$2 rest=$3 gap=$4 max=${5:-20}
	(
		exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" || exit 1
		t0=$EPOCHREALTIME
		{
			timeout "$max" cat <&"$fd" >"$T/slow.$name.resp"
			awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f\n", b - a }' \
				>"$T/slow.$name.secs"
		} &
		reader=$!
		printf '%s' "$first" >&"$fd"
		for ((i = 0; i < ${#rest}; i++)); do
			sleep "$gap"
			[ -e "$T/slow.$name.secs" ] && break
			printf '%s' "${rest:i:1}" >&"$fd" 2>/dev/null || break
		done
		wait "$reader"
	) 2>/dev/null &
}
# slow_wait NAME...: waits (at most 30 s) until every named slow client has ended
slow_wait() {
	local name all
	for _ in $(seq 300); do
		all=1
		for name in "$@"; do [ -s "$T/slow.$name.secs" ] || all=0; done
		[ $all = 1 ] && return 0
		sleep 0.1
	done
	return 1
}
# slow_secs NAME: how long the server let it go on (seconds)
slow_secs() { cat "$T/slow.$1.secs" 2>/dev/null; }
# slow_status NAME: the HTTP status the server answered (empty when it just hung up)
slow_status() { head -n 1 "$T/slow.$1.resp" 2>/dev/null | awk '{ print $2 }'; }

# multipart_form TEXT: sets FORM_BODY, a form whose "file" field holds TEXT, and FORM_HEAD, the
# head of an upload of it
multipart_form() {
	printf -v FORM_BODY -- '--vrLoad\r\nContent-Disposition: form-data; name="file"; filename="slow.mp4"\r\n\r\n%s\r\n--vrLoad--\r\n' "$1"
	printf -v FORM_HEAD 'POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=vrLoad\r\nContent-Length: %d\r\n\r\n' "${#FORM_BODY}"
}
