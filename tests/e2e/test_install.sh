#!/usr/bin/env bash
# make install into a temporary DESTDIR, then the installed programs used as a user would, from
# a directory outside the source tree: a render with local workers, one with the installed
# video-worker as a --remote worker (found on PATH), serve with its built-in page; the help
# naming the installed programs; man pages that lint clean and document every option the help
# lists; the example systemd unit; make uninstall removing it all.
# shellcheck source=api_lib.sh
. "$(dirname "$0")/api_lib.sh"
private_tmp

D=$T/dest
B=${VR_BUILD#"$VR_ROOT"/}
# -o: the programs are used as built (make asan's too), never rebuilt here
inst() { make --no-print-directory -C "$VR_ROOT" BUILD="$B" -o "$B/master" -o "$B/worker" DESTDIR="$D" "$@"; }

rc=0
inst install >"$T/install.log" 2>&1 || rc=$?
check "make install DESTDIR: exit 0" [ "$rc" = 0 ]
P=$D/usr/local
for f in bin/video-renderer bin/video-worker; do
	check "installs $f (executable)" [ -x "$P/$f" ]
done
for f in share/man/man1/video-renderer.1 share/man/man1/video-worker.1 share/doc/video-renderer/video-renderer.service; do
	check "installs $f" [ -s "$P/$f" ]
done

# ---- the installed programs, outside the source tree ----
W=$T/elsewhere
mkdir -p "$W"
gen_clip "$W/clip.mp4" 2 || fail setup "cannot generate a clip"
want=$(frames "$W/clip.mp4")
# installed() NAME ARGS...: the installed video-renderer run in $W with its bin first on PATH
installed() {
	local name=$1; shift
	rc=0
	(cd "$W" && PATH="$P/bin:$PATH" timeout -k 5 180 video-renderer "$@") >"$T/$name.out" 2>"$T/$name.err" </dev/null || rc=$?
}
installed local --json --no-baseline -w 2 -s 1 -o local.mp4 clip.mp4
check "installed video-renderer renders (local workers)" [ "$rc" = 0 -a "$(frames "$W/local.mp4" 2>/dev/null)" = "$want" ]
installed remote --json --no-baseline -w 0 --remote video-worker -s 1 -o remote.mp4 clip.mp4
if [ "$rc" = 0 ] && [ -s "$W/remote.mp4" ]; then
	pass "installed video-renderer renders with --remote video-worker"
	check "--remote video-worker: frames out equal frames in" [ "$(frames "$W/remote.mp4")" = "$want" ]
	check "--remote video-worker: the remote worker did the segments" jt "$T/remote.out" \
		'.remote_workers == 1 and ([.timeline[] | select(.phase == "parallel")] | length >= 2 and all(.remote == true))'
	check "--remote video-worker: the same bytes as the local run" cmp -s "$W/remote.mp4" "$W/local.mp4"
else
	fail "installed video-renderer renders with --remote video-worker" "$(why remote)"
fi
check "working directories removed" tmp_clean

# serve: the page is built into the binary
MASTER=$P/bin/video-renderer
if serve_start "$T/data" --workers 1; then
	code=$(curl -s -o "$T/page.html" -w '%{http_code}' "$URL/")
	check "installed serve answers the page" [ "$code" = 200 ]
	check "the page is the one of master/web" cmp -s "$T/page.html" "$VR_ROOT/master/web/index.html"
	serve_stop
else
	fail "installed serve starts" "$(tail -n 3 "$T/serve.log" | tr '\n' '|')"
fi

# ---- the help names the installed programs ----
help() { PATH="$P/bin:$PATH" "$@" --help 2>&1; }
check "video-renderer --help names video-renderer" bash -c '[ "$(head -n 1 <<<"$1")" = "usage: video-renderer [options] FILE..." ]' _ "$(help video-renderer)"
check "video-renderer serve --help names video-renderer" bash -c '[ "$(head -n 1 <<<"$1")" = "usage: video-renderer serve [options]" ]' _ "$(help video-renderer serve)"
check "video-worker --help names video-worker" bash -c '[ "$(head -n 1 <<<"$1")" = "usage: video-worker [--name NAME]" ]' _ "$(help video-worker)"

# ---- man pages ----
# mdoc(7) checked by mandoc (scripts/install-deps installs it), else by man-db's groff warnings
lint() {
	if command -v mandoc >/dev/null; then
		mandoc -T lint -W warning "$1"
	else
		[ -z "$(LC_ALL=C.UTF-8 MANROFFSEQ='' man --warnings -E UTF-8 -l "$1" 2>&1 >/dev/null)" ]
	fi
}
# rendered PAGE: the page as plain text
rendered() {
	if command -v mandoc >/dev/null; then mandoc -T ascii "$1"; else MANWIDTH=100 man -l "$1" 2>/dev/null; fi | sed 's/.\x08//g'
}
# documents PAGE HELP: every --option the help lists is in the page
documents() {
	local o missing=""
	for o in $(grep -o -- '--[a-z][a-z-]*' <<<"$2" | sort -u); do
		grep -q -- "$o" <<<"$(rendered "$1")" || missing="$missing $o"
	done
	[ -z "$missing" ] || { echo "not in $(basename "$1"):$missing"; return 1; }
}
for page in video-renderer video-worker; do
	m=$P/share/man/man1/$page.1
	check "$page(1) lints clean" lint "$m"
	check "$page(1) renders its NAME" grep -q "^ *$page - " <(rendered "$m")
done
check "video-renderer(1) documents every option of --help" documents "$P/share/man/man1/video-renderer.1" "$(help video-renderer)"
check "video-renderer(1) documents every option of serve --help" documents "$P/share/man/man1/video-renderer.1" "$(help video-renderer serve)"
check "video-worker(1) documents every option of --help" documents "$P/share/man/man1/video-worker.1" "$(help video-worker)"

# ---- the example systemd unit starts the installed program ----
unit=$P/share/doc/video-renderer/video-renderer.service
check "the unit's ExecStart is the installed video-renderer serve" \
	grep -qx 'ExecStart=/usr/local/bin/video-renderer serve .*' "$unit"

# ---- make uninstall ----
rc=0
inst uninstall >"$T/uninstall.log" 2>&1 || rc=$?
check "make uninstall: exit 0" [ "$rc" = 0 ]
check "make uninstall removes every file" [ -z "$(find "$D" -type f)" ]

# ---- another PREFIX ----
rc=0
inst PREFIX=/opt/vr install >"$T/install2.log" 2>&1 || rc=$?
check "make install PREFIX=/opt/vr: the programs go to /opt/vr/bin" [ "$rc" = 0 -a -x "$D/opt/vr/bin/video-renderer" -a -x "$D/opt/vr/bin/video-worker" ]
check "and the unit starts /opt/vr/bin/video-renderer" \
	grep -qx 'ExecStart=/opt/vr/bin/video-renderer serve .*' "$D/opt/vr/share/doc/video-renderer/video-renderer.service"
inst PREFIX=/opt/vr uninstall >/dev/null 2>&1
check "make uninstall PREFIX=/opt/vr removes every file" [ -z "$(find "$D" -type f)" ]
finish
