#!/usr/bin/env bash
# Who gets in and what a hostile client can do (master/README.md, Security): the Host allow-list,
# the Origin check, the token beyond loopback, and the hostile-client findings of issue 15
# (leaks on /events disconnects, HEAD, half-closed requests, abandoned uploads, ...).
# Raw HTTP goes through python3's socket module, the rest through curl.
. "$(dirname "$0")/api_lib.sh"
trap 'serve_stop; rm -rf "$T"' EXIT

# raw REQUEST [shut]: sends REQUEST (bash $'..' escapes) on one connection, shuts the sending
# side when asked, prints every byte the server sends until it closes (5 s at most)
raw() {
	python3 - "$PORT" "$1" "${2:-}" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.argv[2].encode("latin-1"))
if sys.argv[3] == "shut":
    s.shutdown(socket.SHUT_WR)
s.settimeout(5)
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except socket.timeout:
    pass
sys.stdout.write(out.decode("latin-1"))
EOF
}
njobs() { curl -s "$@" "$URL/jobs" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).jobs.length))'; }

gen_clip "$T/clip.mp4" 2
# the master finds this ffprobe first: it notes each run (every preview starts with one), and
# waits while $T/hold exists, so that a test can act in the middle of a preview
mkdir -p "$T/bin"
cat >"$T/bin/ffprobe" <<EOF
#!/bin/sh
echo "\$*" >>"$T/ffprobe.runs"
if [ -e "$T/hold" ]; then : >"$T/held"; while [ -e "$T/hold" ]; do sleep 0.05; done; fi
exec "$(command -v ffprobe)" "\$@"
EOF
chmod +x "$T/bin/ffprobe"
export PATH=$T/bin:$PATH
serve_start "$T/data" --workers 2 --segment-seconds 1 --allowed-host video.example || { fail startup; finish; }

# --- Host allow-list (DNS rebinding) ---
upload "$T/clip.mp4"
A=$JOB
http GET /jobs -H 'Host: evil.example'
check "a foreign Host gets 421 with a JSON reason" [ "$CODE" = 421 -a "$(jget "$BODY" error)" = "Host not allowed" ]
check "and no job list" bash -c '! grep -q "$1" <<<"$2"' _ "$A" "$BODY"
http GET / -H 'Host: evil.example:8000'
check "the page itself is refused to a foreign Host too" [ "$CODE" = 421 ]
http DELETE /cleanup/$A -H 'Host: evil.example'
check "a foreign Host cannot delete" [ "$CODE" = 421 ]
ok=1
for h in "localhost:$PORT" "127.0.0.1:$PORT" "[::1]:$PORT" "video.example" "VIDEO.example:443" "192.168.1.20:$PORT"; do
	http GET /jobs -H "Host: $h"
	[ "$CODE" = 200 ] || { ok=0; echo "Host $h: $CODE"; }
done
check "loopback names, addresses and --allowed-host names are answered" [ $ok = 1 ]
http GET /status/$A
check "the job is still there" [ "$CODE" = 200 ]

# --- Origin on requests that change something ---
before=$(njobs)
http POST /upload -H 'Origin: https://evil.example' -F "file=@$T/clip.mp4"
check "a cross-site upload is 403 with a JSON reason" [ "$CODE" = 403 -a "$(jget "$BODY" error)" = "Origin not allowed" ]
check "and stores nothing" [ "$(njobs)" = "$before" -a -z "$(ls -A "$T/data/spool")" ]
http POST /process -H 'Origin: https://evil.example' -H 'Content-Type: application/json' -d "{\"job_id\":\"$A\",\"filter_type\":\"blur\"}"
check "a cross-site /process is 403" [ "$CODE" = 403 ]
http DELETE /cleanup/$A -H 'Origin: null'
check "a sandboxed page's DELETE is 403" [ "$CODE" = 403 ]
http GET /status/$A
check "the job is untouched: still uploaded" [ "$(jget "$BODY" status)" = uploaded ]
http POST /process -H 'Content-Type: text/plain' -d "{\"job_id\":\"$A\",\"filter_type\":\"blur\"}"
check "/process takes only application/json (a form post cannot start a job)" [ "$CODE" = 415 ]
http GET /jobs -H 'Origin: https://evil.example'
check "a cross-site read gets no CORS header" [ "$CODE" = 200 -a -z "$(header Access-Control-Allow-Origin)" ]
http POST /process -H "Origin: http://127.0.0.1:$PORT" -H 'Content-Type: application/json' -d '{}'
check "the page's own origin may post" [ "$CODE" = 400 ]
http POST /process -H 'Origin: https://video.example' -H 'Host: video.example' -H 'Content-Type: application/json' -d '{}'
check "so may the page behind a proxy under an allowed name" [ "$CODE" = 400 ]
http POST /process -H 'Origin: http://localhost:3000' -H 'Content-Type: application/json' -d '{}'
check "and the original project's page on localhost:3000, with CORS" \
	[ "$CODE" = 400 -a "$(header Access-Control-Allow-Origin)" = http://localhost:3000 ]

# --- the number of workers is the server's to choose ---
http POST /process -H 'Content-Type: application/json' -d "{\"job_id\":\"$A\",\"filter_type\":\"grayscale\",\"workers\":64}"
check "workers over --workers is 400 naming the most" [ "$CODE" = 400 ] && check "the 400 says 1 to 2" grep -q 'from 1 to 2' <<<"$BODY"
http GET /health
check "/health says max_workers and names no job" [ "$(jget "$BODY" max_workers)" = 2 -a "$(jget "$BODY" running)" = false ]

# --- a failed job's error does not show the server's paths ---
upload "$T/clip.mp4"
F=$JOB
head -c 100000 /dev/urandom >"$T/data/jobs/$F/input"
http POST /process -H 'Content-Type: application/json' -d "{\"job_id\":\"$F\",\"filter_type\":\"grayscale\"}"
wait_status "$F" failed 60
http GET /status/$F
check "a job whose input broke fails" [ "$(jget "$BODY" status)" = failed ]
check "and its error does not name the data directory" bash -c '! grep -q "$1" <<<"$2"' _ "$T/data" "$(jget "$BODY" error)"

# --- HEAD: the headers GET would send, no body ---
# the length of GET's body, counted
getlen=$(curl -s "$URL/health" | wc -c)
two=$(raw $'HEAD /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /filters HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
check "HEAD /health has GET's Content-Length ($getlen)" grep -qi "^content-length: $getlen"$'\r' <<<"$two"
check "and no body: the next response on the connection follows its headers" \
	python3 -c 'import sys; r=sys.stdin.read().split("\r\n\r\n"); sys.exit(0 if len(r) >= 2 and r[1].startswith("HTTP/1.1 200") else 1)' <<<"$two"
size=$(stat -c %s "$T/clip.mp4")
head=$(raw $'HEAD /input/'"$A"$' HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
check "HEAD /input has the file's length and no bytes of it" \
	python3 -c 'import sys; r=sys.stdin.read(); h,_,b=r.partition("\r\n\r\n"); sys.exit(0 if "Content-Length: '"$size"'" in h and b == "" else 1)' <<<"$head"
head=$(raw $'HEAD /events/'"$A"$' HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
check "HEAD /events answers the headers and nothing else" \
	python3 -c 'import sys; r=sys.stdin.read(); h,_,b=r.partition("\r\n\r\n"); sys.exit(0 if "text/event-stream" in h and b == "" else 1)' <<<"$head"
runs=$(wc -l <"$T/ffprobe.runs")
two=$(raw $'HEAD /preview/'"$A"$'?format=jpeg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
check "HEAD /preview is a 200 image/jpeg and no body: the next response follows its headers" \
	python3 -c 'import sys; r=sys.stdin.read().split("\r\n\r\n"); sys.exit(0 if r[0].startswith("HTTP/1.1 200") and "Content-Type: image/jpeg" in r[0] and len(r) >= 2 and r[1].startswith("HTTP/1.1 200") else 1)' <<<"$two"
check "without rendering the image (no ffprobe ran for it)" [ "$(wc -l <"$T/ffprobe.runs")" = "$runs" ]
check "so with no Content-Length, which only the image would give" \
	python3 -c 'import sys; sys.exit("content-length" in sys.stdin.read().split("\r\n\r\n")[0].lower())' <<<"$two"
head=$(raw $'HEAD /preview/'"$A"$'?format=gif HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
check "HEAD /preview with a bad query is GET's 400, headers only" \
	python3 -c 'import sys; h,_,b=sys.stdin.read().partition("\r\n\r\n"); sys.exit(0 if h.startswith("HTTP/1.1 400") and b == "" else 1)' <<<"$head"

upload "$T/clip.mp4"
D=$JOB
: >"$T/hold"
curl -s -o "$T/pv.body" -w '%{http_code}' "$URL/preview/$D" >"$T/pv.code" &
pvpid=$!
for _ in $(seq 200); do [ -e "$T/held" ] && break; sleep 0.05; done
http DELETE /cleanup/$D
rm -f "$T/hold"
wait $pvpid
check "a preview whose job is deleted while it renders is 404, not 422" \
	[ "$(cat "$T/pv.code")" = 404 -a "$(jget "$(cat "$T/pv.body")" error)" = "Job not found" ]

# --- what evhttp would answer in HTML (or not at all) is a JSON error ---
# json_status RESPONSE: the status code when the body is a JSON {"error": ...}, else "not JSON"
json_status() {
	python3 -c 'import json, sys
r = sys.stdin.read(); h, _, b = r.partition("\r\n\r\n")
try:
    ok = isinstance(json.loads(b).get("error"), str) and "application/json" in h
except ValueError:
    ok = False
print(h.split(" ")[1] if ok else "not JSON: " + r[:80].replace("\r\n", " "))' <<<"$1"
}
long=$(printf '%020000d' 0)
r=$(raw $'TRACE / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
check "TRACE is a JSON 405" [ "$(json_status "$r")" = 405 ] && check "naming what is allowed" grep -q '^Allow: GET' <<<"$r"
r=$(raw $'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')
check "CONNECT is a JSON 405" [ "$(json_status "$r")" = 405 ]
r=$(raw $'BREW /pot HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
check "an unknown method is a JSON 501" [ "$(json_status "$r")" = 501 ]
r=$(raw $'\x16\x03\x01 hello garbage\r\n\r\n')
check "a garbage request line is a JSON 400" [ "$(json_status "$r")" = 400 ]
r=$(raw $'GET /'"$long"$' HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
check "a request line over 16 KB is a JSON 414" [ "$(json_status "$r")" = 414 ]
r=$(raw $'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: '"$long"$'\r\n\r\n')
check "a request head over 16 KB is a JSON 431" [ "$(json_status "$r")" = 431 ]
head -c 2000000 /dev/zero | tr '\0' ' ' >"$T/big.json"
http POST /process -H 'Content-Type: application/json' --data-binary "@$T/big.json"
check "a 2 MB /process body is a JSON 413" [ "$CODE" = 413 -a -n "$(jget "$BODY" error)" ]
http POST /process -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary "@$T/big.json"
check "so is a 2 MB chunked one" [ "$CODE" = 413 -a -n "$(jget "$BODY" error)" ]
r=$(raw $'POST /process HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n11\r\n{"job_id":"1234"}\r\n100000\r\n')
check "even when the chunk that passes 1 MiB comes after others" [ "$(json_status "$r")" = 413 ]
http GET /health
check "the server still answers" [ "$CODE" = 200 ]

# --- a request whose client shut its sending side is answered ---
r=$(raw $'GET /health HTTP/1.0\r\n\r\n' shut)
check "half-closed GET /health is answered" grep -q '"status":"healthy"' <<<"$r"
r=$(raw $'GET /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' shut)
check "half-closed keep-alive GET /jobs is answered" grep -q "$A" <<<"$r"
upload "$T/clip.mp4"
B=$JOB
r=$(raw $'DELETE /cleanup/'"$B"$' HTTP/1.0\r\n\r\n' shut)
check "half-closed DELETE is answered" grep -q 'Job cleaned up successfully' <<<"$r"

# --- an upload whose client left before the answer is not kept ---
before=$(njobs)
python3 - "$PORT" "$T/clip.mp4" <<'EOF'
import socket, sys
data = open(sys.argv[2], "rb").read()
body = (b"--vrB\r\nContent-Disposition: form-data; name=\"file\"; filename=\"gone.mp4\"\r\n"
        b"Content-Type: video/mp4\r\n\r\n" + data + b"\r\n--vrB--\r\n")
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=vrB\r\n"
          b"Content-Length: %d\r\n\r\n" % len(body) + body)
s.close()
EOF
# the server logs the upload it drops, or answers the next /jobs with it when it keeps it
for _ in $(seq 100); do
	grep -q 'gone.mp4.*not kept' "$T/serve.log" && break
	[ "$(njobs)" != "$before" ] && break
	sleep 0.2
done
check "an abandoned upload does not become a job" [ "$(njobs)" = "$before" ]
check "and leaves no file behind" [ -z "$(ls -A "$T/data/spool")" ]

# --- /events ends when its job goes, and every dropped stream is freed (make asan) ---
upload "$T/clip.mp4"
C=$JOB
python3 - "$PORT" "$C" <<'EOF' >"$T/events.out" &
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /events/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % sys.argv[2].encode())
s.settimeout(20)
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        sys.stdout.write(b.decode("latin-1"))
        sys.stdout.flush()
        if b.endswith(b"\r\n0\r\n\r\n"):
            break   # the last chunk: the stream ended, the connection may stay
except socket.timeout:
    sys.stdout.write("TIMEOUT")
EOF
evpid=$!
for _ in $(seq 100); do grep -q 'event: status' "$T/events.out" 2>/dev/null && break; sleep 0.1; done
http DELETE /cleanup/$C
wait $evpid
check "an uploaded job's stream ends with 'gone' when it is deleted" \
	sh -c "grep -q 'event: gone' '$T/events.out' && ! grep -q TIMEOUT '$T/events.out'"
python3 - "$PORT" "$A" <<'EOF'
import socket, sys
for _ in range(50):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"GET /events/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % sys.argv[2].encode())
    got = b""
    while b"event: status" not in got:
        got += s.recv(65536)
    s.close()
EOF
http GET /health
check "50 event streams dropped by their clients: the server still answers" [ "$CODE" = 200 ]

# --- previews: bounded in number and in the frame they hold ---
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=7680x4320:rate=1:duration=1" \
	-c:v libx264 -preset ultrafast -pix_fmt yuv420p "$T/8k.mp4"
upload "$T/8k.mp4"
K=$JOB
hwm0=$(awk '/VmHWM/ {print $2}' "/proc/$SERVE_PID/status")
python3 - "$PORT" "$K" >"$T/previews.out" <<'EOF'
import http.client, json, struct, sys, threading
res = []
def one(i):
    c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=120)
    c.request("GET", "/preview/%s?filter=grayscale&t=0&format=jpeg" % sys.argv[2])
    r = c.getresponse(); b = r.read()
    if r.status == 200 and b[:2] == b"\xff\xd8":
        i = 2   # the JPEG's frame header has its size
        while b[i + 1] not in (0xc0, 0xc1, 0xc2):
            i += 2 + struct.unpack(">H", b[i + 2:i + 4])[0]
        res.append("jpeg %dx%d" % struct.unpack(">HH", b[i + 5:i + 9])[::-1])
    elif r.status == 503 and "error" in json.loads(b):
        res.append("busy")
    else:
        res.append("%d %r" % (r.status, b[:80]))
ts = [threading.Thread(target=one, args=(i,)) for i in range(6)]
[t.start() for t in ts]; [t.join() for t in ts]
print("\n".join(sorted(res)))
EOF
hwm1=$(awk '/VmHWM/ {print $2}' "/proc/$SERVE_PID/status")
check "6 previews of an 8K video at once: every one a 4K still" [ "$(grep -c "^jpeg 3840x2160$" "$T/previews.out")" = 6 ]
echo "master peak RSS: $hwm0 KiB before the previews, $hwm1 KiB after"
if [ -n "${VR_SANITIZED:-}" ]; then
	echo "SKIP preview memory: ASan holds freed memory in quarantine"
else
	check "and the master's peak memory stays under 400 MB" [ "$hwm1" -lt 409600 ]
fi
http GET "/preview/$K?format=gif"
check "format=gif is 400, not a PNG" [ "$CODE" = 400 ]
serve_stop
check "nothing leaked (AddressSanitizer's report, under make asan)" sh -c "! grep -q 'LeakSanitizer' '$T/serve.log'"

# --- the token beyond loopback ---
rc=0
"$MASTER" serve --host 0.0.0.0 --port "$(free_port)" --data-dir "$T/d2" >"$T/open.out" 2>"$T/open.err" || rc=$?
check "--host 0.0.0.0 without --token-file exits 2" [ $rc = 2 ]
check "with one line saying what to do" [ "$(wc -l <"$T/open.err")" = 1 ] && check "naming --token-file" grep -q -- '--token-file' "$T/open.err"
TOKEN=0123456789abcdef0123456789abcdef
printf '%s\n' "$TOKEN" >"$T/token"
chmod 644 "$T/token"
rc=0
"$MASTER" serve --host 0.0.0.0 --port "$(free_port)" --data-dir "$T/d2" --token-file "$T/token" >"$T/open.out" 2>"$T/open.err" || rc=$?
check "a token file others can read is refused (exit 2)" [ $rc = 2 ] && check "saying chmod 600" grep -q 'chmod 600' "$T/open.err"
chmod 600 "$T/token"
serve_start "$T/data" --workers 2 --token-file "$T/token" --timeout 2 --max-connections 4 || { fail "startup with a token"; finish; }
http GET /health
check "/health stays open with a token" [ "$CODE" = 200 -a "$(jget "$BODY" token_required)" = true ]
check "and names no job" bash -c '! grep -q "$1" <<<"$2"' _ "$A" "$BODY"
http GET /jobs
check "/jobs without the token is 401 JSON" [ "$CODE" = 401 -a "$(jget "$BODY" error)" = Unauthorized ]
check "with WWW-Authenticate: Bearer" grep -qi '^www-authenticate: bearer' "$HDRS"
http GET /jobs -H "Authorization: Bearer ${TOKEN%?}x"
check "a wrong token is 401" [ "$CODE" = 401 ]
http GET /jobs -H "Authorization: Bearer ${TOKEN}0"
check "the token with a byte more is 401" [ "$CODE" = 401 ]
http GET /jobs -H "Authorization: Bearer $TOKEN"
check "the token lets /jobs through" [ "$CODE" = 200 -a "$(jget "$BODY" jobs | grep -c "$A")" = 1 ]
http GET "/input/$A"
check "a video link without the token is 401" [ "$CODE" = 401 ]
http GET "/stream/$A/index.m3u8"
check "the stream without the token is 401" [ "$CODE" = 401 ]
http GET "/stream/$A/index.m3u8" -H "Authorization: Bearer $TOKEN"
check "the stream with the token gets past the guard (404: job A has not rendered)" [ "$CODE" = 404 ]
http GET /
check "the page itself loads without the token (it asks for it)" [ "$CODE" = 200 ]
http POST /login
check "login without the token is 401" [ "$CODE" = 401 ]
http POST /login -H "Authorization: Bearer $TOKEN"
cookie=$(header Set-Cookie)
check "login with the token sets an HttpOnly SameSite=Strict cookie" \
	bash -c '[ "$1" = 204 ] && grep -q "; HttpOnly" <<<"$2" && grep -q "; SameSite=Strict" <<<"$2"' _ "$CODE" "$cookie"
curl -s -o "$T/in.mp4" -H "Cookie: ${cookie%%;*}" "$URL/input/$A"
check "the cookie opens the video link" cmp -s "$T/in.mp4" "$T/clip.mp4"
http GET "/input/$A" -H "Cookie: vr_session=${cookie:11:20}"
check "a wrong cookie is 401" [ "$CODE" = 401 ]

# --- slow readers and too many connections (this server: --timeout 2 --max-connections 4) ---
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=30:duration=6" \
	-c:v libx264 -preset ultrafast -b:v 8M "$T/big.mp4"
http POST /upload -H "Authorization: Bearer $TOKEN" -F "file=@$T/big.mp4"
BIG=$(jget "$BODY" job_id)
fds() { ls "/proc/$SERVE_PID/fd" | wc -l; }
fd0=$(fds)
python3 - "$PORT" "$BIG" "$TOKEN" "$SERVE_PID" "$fd0" <<'EOF' >"$T/slow.out"
import os, socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /input/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n"
          % (sys.argv[2].encode(), sys.argv[3].encode()))
# one byte a second, until the master has let go of the connection and its file (30 s at most)
for i in range(30):
    s.recv(1)
    time.sleep(1)
    if len(os.listdir("/proc/%s/fd" % sys.argv[4])) <= int(sys.argv[5]):
        print("released")
        break
EOF
check "a download read at 1 byte/s is cut off by --timeout" grep -q released "$T/slow.out"
python3 - "$PORT" "$TOKEN" <<'EOF' >"$T/many.out"
import socket, sys
idle = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(4)]
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n" % sys.argv[2].encode())
s.settimeout(10)
print(s.recv(65536).decode("latin-1"))
EOF
check "a connection beyond --max-connections gets 503" [ "$(json_status "$(cat "$T/many.out")")" = 503 ]
http GET /jobs -H "Authorization: Bearer $TOKEN"
check "and once they are gone, requests are served again" [ "$CODE" = 200 ]

# the token server goes first: serve_start forgets the pid it held
serve_stop
# --- a restart keeps the queue's order, and removes job directories without a record ---
# remote-only workers that never answer: the first job stays processing, the others queued
serve_start "$T/q" --workers 0 --remote 'sleep 600' --segment-seconds 1 || { fail "startup for the queue"; finish; }
upload "$T/clip.mp4"; QA=$JOB
upload "$T/clip.mp4"; QB=$JOB
upload "$T/clip.mp4"; QX=$JOB
for id in $QX $QB $QA; do
	http POST /process -H 'Content-Type: application/json' -d "{\"job_id\":\"$id\",\"filter_type\":\"grayscale\"}"
done
http GET /status/$QA
check "queued X, B, A: A is third" [ "$(jget "$BODY" queue_position)" = 2 ]
serve_stop
orphan=01234567-89ab-4cde-8f01-23456789abcd
mkdir -p "$T/q/jobs/$orphan" && echo x >"$T/q/jobs/$orphan/input"
serve_start "$T/q" --workers 0 --remote 'sleep 600' --segment-seconds 1 || { fail "restart for the queue"; finish; }
http GET /status/$QX
x=$(jget "$BODY" status)
http GET /status/$QB
b=$(jget "$BODY" queue_position)
http GET /status/$QA
a=$(jget "$BODY" queue_position)
check "after a restart X runs, then B, then A (not upload order)" [ "$x" = processing -a "$b" = 1 -a "$a" = 2 ]
check "a job directory without a record is removed at start-up" [ ! -e "$T/q/jobs/$orphan" ]
serve_stop
finish
