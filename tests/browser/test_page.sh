#!/usr/bin/env bash
# The bundled page in a real Chromium (Debian's, driven by npm's playwright-core) against a real
# `master serve`: upload a generated clip, render it with blur, check what a person would see.
# The checks themselves are in page.test.mjs; it prints the PASS/FAIL lines.
# Screenshots go to tests/artifacts/ (page-result.png, page-phone.png).
source "$(dirname "$0")/../e2e/lib.sh"

here=$VR_ROOT/tests/browser
artifacts=$VR_ROOT/tests/artifacts
chromium=${CHROMIUM:-/usr/bin/chromium}
pid=

browser_stop() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		# a master that ignores SIGTERM for 5 s is killed
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$T"
}
trap browser_stop EXIT
trap 'exit 143' TERM INT

if [ ! -x "$MASTER" ]; then
	fail page "no $MASTER (run make)"
	finish
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
	fail page "playwright-core is not installed (run scripts/install-deps)"
	finish
fi
if [ ! -x "$chromium" ]; then
	fail page "no chromium at $chromium (run scripts/install-deps)"
	finish
fi

if ! gen_clip "$T/clip.mp4" 4; then
	fail page "ffmpeg could not generate the clip"
	finish
fi
echo "These are notes, not a video." >"$T/notes.mp4"
# a recording cut off at a fifth of its 10 s: the page must say it is truncated
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=320x240:rate=30:duration=10" -c:v libx264 -preset ultrafast \
	-g 30 -pix_fmt yuv420p "$T/full.mkv" && head -c $(($(stat -c %s "$T/full.mkv") / 5)) "$T/full.mkv" >"$T/trunc.mkv"
# the stream's checks: long enough for its pieces to finish one by one, under --max-upload-mb 2
if ! gen_clip "$T/long.mp4" 8; then
	fail page "ffmpeg could not generate the longer clip"
	finish
fi

# A free port: bind port 0 and let the kernel pick one.
port=$(node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
"$MASTER" serve --host 127.0.0.1 --port "$port" --data-dir "$T/data" --segment-seconds 1 --max-upload-mb 2 \
	>"$T/master.log" 2>&1 </dev/null &
pid=$!

up=0
for _ in $(seq 100); do
	if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
		up=1
		break
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if [ $up -eq 0 ]; then
	fail page "master serve did not answer /health: $(tail -n 3 "$T/master.log" | tr '\n' '|')"
	finish
fi

# node in the background so a TERM from the runner reaches the trap at once
BASE="http://127.0.0.1:$port" CLIP="$T/clip.mp4" BAD="$T/notes.mp4" TRUNC="$T/trunc.mkv" ARTIFACTS="$artifacts" \
	CLIP_DURATION="$(duration "$T/clip.mp4")" CHROMIUM="$chromium" \
	LONG="$T/long.mp4" LONG_DURATION="$(duration "$T/long.mp4")" \
	timeout -k 5 240 node "$here/page.test.mjs" >"$T/node.out" 2>&1 &
node_pid=$!
wait "$node_pid"
rc=$?
cat "$T/node.out"
if [ $rc -ne 0 ]; then
	grep -q '^FAIL ' "$T/node.out" || fail page "node exited with $rc"
	echo "--- master log (last 30 lines)"
	tail -n 30 "$T/master.log"
	e2e_failed=1
fi
finish
