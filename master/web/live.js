// The processed video while it renders: the job's HLS stream (/stream/ID/index.m3u8) plays as
// soon as its first piece is ready and grows as pieces finish; a strip under it marks the part
// rendered so far. It plays through hls.js (built into the page from npm, never fetched from
// elsewhere) where Media Source Extensions work, else through the browser's own HLS (iOS).
import { apiStreamUrl } from './api.js';
import { $, fmtSeconds, isNum } from './format.js';

// hls.js is loaded on first use, and the page works without it (a build without npm).
let liveHlsModule = null;
function liveLoadHls() {
	if (!liveHlsModule)
		liveHlsModule = import('./hls.js').then((m) => m.default).catch(() => null);
	return liveHlsModule;
}

export function liveInit() {
	const box = $('live');
	const video = $('live-video');
	const note = $('live-note');
	const fill = $('live-rendered');
	const head = $('live-head');
	let id = null;		/* the job whose stream is attached */
	let hls = null;
	let duration = 0;
	let playable = 0;

	const drawTrack = () => {
		const d = duration > 0 ? duration : Math.max(playable, 1);
		fill.style.width = `${Math.min(100, (100 * playable) / d).toFixed(2)}%`;
		head.style.left = `${Math.min(100, (100 * video.currentTime) / d).toFixed(2)}%`;
	};
	video.addEventListener('timeupdate', drawTrack);

	const detach = () => {
		if (hls) {
			hls.destroy();
			hls = null;
		}
		video.removeAttribute('src');
		video.load();
		id = null;
	};

	const attach = async (jobId) => {
		id = jobId;
		const url = apiStreamUrl(jobId);
		// hls.js wherever Media Source Extensions work (Chromium's own HLS is young and fails
		// on a playlist that starts with one short piece); the browser's own player elsewhere
		const Hls = await liveLoadHls();
		if (id !== jobId)
			return;
		if (!Hls || !Hls.isSupported()) {
			if (video.canPlayType('application/vnd.apple.mpegurl'))
				video.src = url;
			else
				note.textContent = 'This browser cannot play the stream; the result plays here when it is done.';
		} else {
			// from the start, not from the live edge: the playlist is the video, growing
			hls = new Hls({ startPosition: 0, liveDurationInfinity: false });
			hls.on(Hls.Events.ERROR, (ev, data) => {
				if (data.fatal && data.type === Hls.ErrorTypes.NETWORK_ERROR)
					hls.startLoad();
				else if (data.fatal && data.type === Hls.ErrorTypes.MEDIA_ERROR)
					hls.recoverMediaError();
			});
			hls.loadSource(url);
			hls.attachMedia(video);
		}
		video.play().catch(() => { /* autoplay refused: the controls are there */ });
	};

	return {
		reset() {
			detach();
			box.hidden = true;
			playable = 0;
			note.textContent = '';
			drawTrack();
		},
		update(jobId, s) {
			if (id !== null && id !== jobId)
				this.reset();
			const input = s.input || s.analytics || {};
			duration = isNum(input.duration) ? input.duration : duration;
			playable = isNum(s.playable_seconds) ? s.playable_seconds : 0;
			if (playable > 0 && id === null && s.status !== 'failed') {
				box.hidden = false;
				attach(jobId);
			}
			if (!box.hidden && s.status !== 'failed') {
				const rate = isNum(s.realtime_factor) ? ` · rendering at ${s.realtime_factor.toFixed(2)}× real time` : '';
				note.textContent = s.status === 'completed' ? `All ${fmtSeconds(playable)} rendered`
					: `${fmtSeconds(playable)} of ${fmtSeconds(duration)} playable${rate}`;
			}
			drawTrack();
		},
	};
}
