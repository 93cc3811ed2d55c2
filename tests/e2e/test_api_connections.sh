#!/usr/bin/env bash
# --max-connections (master/README.md, Security): connections beyond it are answered 503 as soon
# as they are accepted, even when they never send a request, so a crowd of idle sockets cannot
# use up the master's file descriptors; once they go, requests are served again.
. "$(dirname "$0")/api_lib.sh"
trap 'serve_stop; rm -rf "$T"' EXIT

N=8      # --max-connections
K=100    # connections beyond it: together more than the master's 64 descriptors
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
# the master alone gets the low limit of open files
(ulimit -n 64 && exec "$MASTER" serve --port "$PORT" --data-dir "$T/data" --workers 1 --timeout 60 \
	--max-connections $N) >>"$T/serve.log" 2>&1 &
SERVE_PID=$!
up=0
for _ in $(seq 100); do
	curl -fs "$URL/health" >/dev/null 2>&1 && { up=1; break; }
	sleep 0.1
done
[ $up = 1 ] || { fail startup "$(tail -5 "$T/serve.log")"; finish; }

# N+K idle sockets (not one byte sent); prints how many were answered with a JSON 503 and how
# many are still open, waiting, then what curl gets while they are held
python3 - "$PORT" $N $K "$URL" >"$T/idle.out" <<'EOF'
import json, select, socket, subprocess, sys
port, n, k, url = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n + k)]
got = {s: b"" for s in socks}
answered = set()
# every answer ends with the server closing: wait for k of them (a minute at most)
while len(answered) < k:
    r, _, _ = select.select([s for s in socks if s not in answered], [], [], 60)
    if not r:
        break
    for s in r:
        b = s.recv(65536)
        got[s] += b
        if not b:
            answered.add(s)
ok503 = 0
for s in answered:
    h, _, b = got[s].decode("latin-1").partition("\r\n\r\n")
    try:
        if h.startswith("HTTP/1.1 503") and "application/json" in h and json.loads(b)["error"]:
            ok503 += 1
    except (ValueError, KeyError):
        pass
still = 0
for s in socks:
    if s in answered:
        continue
    s.setblocking(False)
    try:
        s.recv(1)
    except BlockingIOError:
        still += 1
print("answered503", ok503)
print("open", still)
r = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", url + "/health"], capture_output=True, text=True)
print("curl_while_full", r.stdout.rsplit("\n", 1)[-1])
for s in socks:
    s.close()
EOF
cat "$T/idle.out"
check "$K idle connections beyond --max-connections $N each get a JSON 503" grep -qx "answered503 $K" "$T/idle.out"
check "the $N within it stay open" grep -qx "open $N" "$T/idle.out"
check "a request while they are held gets 503 too" grep -qx "curl_while_full 503" "$T/idle.out"
# the held connections close: the master sees it when their end of input arrives
ok=0
for _ in $(seq 100); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/health")" = 200 ] && { ok=1; break; }
	sleep 0.1
done
check "once they are gone, requests are served again" [ $ok = 1 ]
http GET /jobs
check "and the API answers with JSON" [ "$CODE" = 200 -a "$(jget "$BODY" jobs)" = "[]" ]
check "the master never ran out of descriptors" bash -c '! grep -qi "too many open files" "$1"' _ "$T/serve.log"
serve_stop
check "no sanitizer report (under make asan)" \
	bash -c '! grep -qE "LeakSanitizer|AddressSanitizer|runtime error" "$1"' _ "$T/serve.log"
finish
