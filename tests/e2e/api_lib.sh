# Helpers for the HTTP API tests: a master serving on a free port with its own data dir.
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# free_port: a TCP port nobody listens on
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# serve_start DATA_DIR [master serve options...]: starts the master, sets SERVE_PID and URL
serve_start() {
	local data=$1; shift
	PORT=$(free_port)
	URL=http://127.0.0.1:$PORT
	"$MASTER" serve --port "$PORT" --data-dir "$data" "$@" >>"$T/serve.log" 2>&1 &
	SERVE_PID=$!
	for _ in $(seq 100); do
		curl -fs "$URL/health" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "master did not start:"; tail -20 "$T/serve.log"
	return 1
}
serve_stop() { [ -n "${SERVE_PID:-}" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null; SERVE_PID=; }

# http METHOD PATH [curl args...]: sets CODE and BODY (and HDRS, the response headers file)
http() {
	local method=$1 path=$2; shift 2
	HDRS=$T/hdrs.$$
	BODY=$(curl -s -X "$method" -D "$HDRS" -o - -w '\n%{http_code}' "$@" "$URL$path" | tr -d '\0')
	CODE=${BODY##*$'\n'}
	BODY=${BODY%$'\n'*}
}
header() { grep -i "^$1:" "$HDRS" | head -1 | cut -d: -f2- | tr -d '\r' | sed 's/^ //'; }
# upload FILE: sets JOB (the id) on success
upload() { http POST /upload -F "file=@$1"; JOB=$(jget "$BODY" job_id 2>/dev/null); }
# wait_status ID STATUS [SECONDS]: polls /status until it is STATUS (or failed)
wait_status() {
	local id=$1 want=$2 secs=${3:-90} st
	for _ in $(seq $((secs * 5))); do
		st=$(curl -s "$URL/status/$id" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).status)}catch(e){console.log("?")}})')
		[ "$st" = "$want" ] && return 0
		[ "$st" = failed ] && [ "$want" != failed ] && return 1
		sleep 0.2
	done
	return 1
}
