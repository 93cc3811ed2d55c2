// The page: wires upload -> source -> filter -> run -> results, and the list of jobs.
// The current job is kept in the address (#job=ID) so a reload reopens it.
import { apiFilters, apiFollow, apiHealth, apiInputUrl, apiLogin, apiPreview, apiProcess, apiSavedToken, apiStatus } from './api.js';
import { filtersInit } from './filters.js';
import { $, fmtBytes, fmtFps, fmtSeconds, h, isNum, showError } from './format.js';
import { jobsInit } from './jobs.js';
import { liveInit } from './live.js';
import { resultsInit } from './results.js';
import { runInit } from './run.js';
import { uploadInit } from './upload.js';

const app = {
	health: null,
	job: null,		/* {id, filename, size, analytics} */
	status: null,		/* last status record of app.job */
	unfollow: null,
};

const filters = filtersInit();
const run = runInit();
const live = liveInit();
const results = resultsInit();
const jobs = jobsInit({
	onOpen: (id) => appOpen(id, true),
	onDeleted: (id) => {
		if (app.job && app.job.id === id)
			appReset();
	},
	currentId: () => app.job?.id,
});
const upload = uploadInit({
	maxMb: () => app.health?.max_upload_mb || 0,
	onStart: () => showError($('run-error'), null),
	onUploaded: (r, file) => {
		appShowJob({ id: r.job_id, filename: r.filename || file.name, size: r.size ?? file.size, analytics: r.analytics || {} });
		appSetStatus({ job_id: r.job_id, status: 'uploaded' });
		jobs.refresh();
		$('setup').scrollIntoView({ behavior: 'smooth', block: 'start' });
		$('filter').focus({ preventScroll: true });
	},
});

function appFact(label, value) {
	return h('div', null, h('dt', null, label), h('dd', null, value));
}

function appFacts(a, size) {
	const dl = $('source-facts');
	dl.textContent = '';
	const res = isNum(a.width) && isNum(a.height) ? `${a.width}×${a.height}` : '–';
	const rot = isNum(a.rotation) && a.rotation !== 0 ? ` (rotated ${a.rotation}°)` : '';
	const mb = isNum(size) ? fmtBytes(size) : isNum(a.file_size_mb) ? `${a.file_size_mb.toFixed(1)} MB` : '–';
	dl.append(
		appFact('Duration', fmtSeconds(a.duration)),
		appFact('Resolution', res + rot),
		appFact('Frame rate', isNum(a.fps) ? `${fmtFps(a.fps)} fps${a.variable_frame_rate ? ' (variable)' : ''}` : '–'),
		appFact('Size', mb),
		appFact('Audio', a.has_audio ? (a.audio_codec || 'yes') : 'none'),
		appFact('Codec', a.codec ? `${a.codec}${a.pix_fmt ? ` · ${a.pix_fmt}` : ''}` : '–'));
	if (isNum(a.total_frames))
		dl.append(appFact('Frames', String(a.total_frames)));
	// a cut-off file renders what it holds: say so, with the length its header claims
	if (a.truncated) {
		const f = appFact('Truncated', `holds ${fmtSeconds(a.duration)} of the ${fmtSeconds(a.declared_duration)} it declares`);
		f.id = 'source-truncated';
		f.classList.add('warn');
		dl.append(f);
	}
	if (isNum(a.bitrate_mbps))
		dl.append(appFact('Bitrate', `${a.bitrate_mbps.toFixed(2)} Mbit/s`));
}

// The original as a <video>; when the browser cannot play it, a still from /preview, else words.
function appStill(job) {
	const box = $('source-still');
	box.textContent = '';
	const v = h('video', { id: 'source-video', src: apiInputUrl(job.id), controls: true, muted: true, playsinline: true, preload: 'metadata' });
	v.addEventListener('error', async () => {
		if (filters.previewsAvailable() === 'no') {
			v.replaceWith(h('p', { class: 'note' }, 'This browser cannot play this format. The facts below come from the server.'));
			return;
		}
		const t = Math.min(1, (job.analytics.duration || 0) / 3);
		try {
			const url = await apiPreview(job.id, 'none', t);
			v.replaceWith(h('img', { src: url, alt: `A frame of ${job.filename}` }));
		} catch {
			v.replaceWith(h('p', { class: 'note' }, 'This browser cannot play this format. The facts below come from the server.'));
		}
	});
	box.append(v);
}

function appShowJob(job) {
	if (app.unfollow) {
		app.unfollow();
		app.unfollow = null;
	}
	app.job = job;
	app.status = null;
	history.replaceState(null, '', `#job=${encodeURIComponent(job.id)}`);
	$('source-name').textContent = job.filename;
	appFacts(job.analytics || {}, job.size);
	appStill(job);
	$('source').hidden = false;
	$('setup').hidden = false;
	$('upload').classList.add('compact');
	$('drop-title').textContent = 'Drop another video here, or';
	filters.setJob({ id: job.id, duration: job.analytics?.duration });
	run.hide();
	run.reset();
	live.reset();
	results.hide();
	jobs.markCurrent();
}

function appReset() {
	if (app.unfollow)
		app.unfollow();
	app.unfollow = null;
	app.job = null;
	app.status = null;
	history.replaceState(null, '', location.pathname);
	for (const id of ['source', 'setup'])
		$(id).hidden = true;
	$('upload').classList.remove('compact');
	$('drop-title').textContent = 'Drop a video anywhere on the page';
	filters.setJob(null);
	run.hide();
	live.reset();
	results.hide();
	appHeader();
}

function appSetStatus(s) {
	const prev = app.status;
	app.status = s;
	const busy = s.status === 'queued' || s.status === 'processing';
	const start = $('start');
	start.disabled = busy;
	start.textContent = busy ? 'Rendering…' : s.status === 'completed' || s.status === 'failed' ? 'Render again' : 'Start rendering';
	appHeader();
	if (s.status === 'uploaded')
		return;
	run.update(s);
	live.update(app.job.id, s);
	if (s.status === 'completed') {
		if (prev?.status !== 'completed')
			results.show(s, app.job);
	} else {
		results.hide();
	}
	if (!prev || prev.status !== s.status)
		jobs.refresh();
}

function appFollow(id) {
	if (app.unfollow)
		app.unfollow();
	app.unfollow = apiFollow(id, (s) => {
		if (app.job?.id === id)
			appSetStatus(s);
	}, (err) => {
		showError($('job-error'), err);
	});
}

// "blur:sigma=3" -> ['blur', {sigma: 3}] (only the first filter of a chain)
function appParseSpec(spec) {
	const [name, ...kv] = String(spec || '').split(',')[0].split(':');
	const params = {};
	for (const p of kv) {
		const [k, v] = p.split('=');
		if (k && v !== undefined && Number.isFinite(Number(v)))
			params[k] = Number(v);
	}
	return [name, params];
}

async function appOpen(id, scroll) {
	let s;
	try {
		s = await apiStatus(id);
	} catch (err) {
		showError($('upload-error'), err.status === 404
			? `Job ${id} no longer exists on this server.` : err);
		if (app.job?.id === id || !app.job)
			appReset();
		jobs.refresh();
		return;
	}
	showError($('upload-error'), null);
	appShowJob({ id, filename: s.filename || id, size: s.size, analytics: s.analytics || s.input || {} });
	if (s.filter_type) {
		const [name, params] = appParseSpec(s.filter_type);
		filters.choose(name, params);
	}
	if (isNum(s.workers) && s.status !== 'uploaded')
		$('workers').value = String(s.workers);
	if (typeof s.baseline === 'boolean' && s.status !== 'uploaded')
		$('baseline').checked = s.baseline;
	appSetStatus(s);
	if (s.status === 'queued' || s.status === 'processing')
		appFollow(id);
	if (scroll)
		$(s.status === 'uploaded' ? 'setup' : 'run').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

async function appStart(e) {
	e.preventDefault();
	const errBox = $('run-error');
	if (!app.job)
		return;
	const v = filters.value();
	if (typeof v === 'string') {
		showError(errBox, v);
		return;
	}
	const workers = Number($('workers').value);
	if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
		showError(errBox, 'Workers must be a whole number from 1 to 64.');
		$('workers').focus();
		return;
	}
	const body = { job_id: app.job.id, filter_type: v.filter_type, params: v.params, workers, baseline: $('baseline').checked };
	const segRaw = $('segment-seconds').value.trim();
	if (segRaw !== '') {
		const seg = Number(segRaw);
		if (!(seg > 0)) {
			showError(errBox, 'The segment length must be a number of seconds above 0.');
			return;
		}
		body.segment_seconds = seg;
	}
	// the output's format: what is left empty is the server's default
	for (const [id, key] of [['out-format', 'format'], ['out-codec', 'codec'], ['out-audio', 'audio']]) {
		if ($(id).value !== '')
			body[key] = $(id).value;
	}
	for (const [id, key] of [['out-crf', 'crf'], ['out-bitrate', 'bitrate']]) {
		const raw = $(id).value.trim();
		if (raw === '')
			continue;
		if (!/^[0-9]+$/.test(raw)) {
			showError(errBox, `${key === 'crf' ? 'The quality (CRF)' : 'The bitrate'} must be a whole number.`);
			$(id).focus();
			return;
		}
		body[key] = Number(raw);
	}
	const start = $('start');
	start.disabled = true;
	showError(errBox, null);
	try {
		await apiProcess(body);
	} catch (err) {
		start.disabled = false;
		showError(errBox, err);
		return;
	}
	run.reset();
	live.reset();
	results.hide();
	appSetStatus({ job_id: app.job.id, status: 'queued', phase: 'probing', baseline: body.baseline, workers, timeline: [] });
	$('run').scrollIntoView({ behavior: 'smooth', block: 'start' });
	appFollow(app.job.id);
}

// The header: the server's cores and queue from /health (every 10 s), and what the job this
// page follows is doing from its events, as they come.
function appHeader() {
	const hl = app.health;
	if (!hl)
		return;
	const s = app.status;
	let busy;
	if (s && s.status === 'processing') {
		const pct = isNum(s.progress) ? ` ${s.progress}%` : '';
		const play = isNum(s.playable_seconds) && s.playable_seconds > 0 ? ` · ${fmtSeconds(s.playable_seconds)} playable` : '';
		busy = `rendering · ${s.phase || 'starting'}${pct}${play}`;
	} else if (s && s.status === 'queued') {
		busy = 'queued';
	} else {
		// running says whether a job renders now (a count on servers that run several)
		busy = isNum(hl.running) ? (hl.running > 0 ? `${hl.running} running` : 'idle')
			: hl.running ? 'rendering a job' : 'idle';
	}
	const queue = hl.queue_length ? ` · ${hl.queue_length} queued` : '';
	$('health-text').textContent = `${hl.workers} cores · ${busy}${queue}`;
}

async function appHealth() {
	const el = $('health');
	const text = $('health-text');
	try {
		const hl = await apiHealth();
		const first = !app.health;
		app.health = hl;
		el.className = 'health ok';
		appHeader();
		upload.setLimit(hl.max_upload_mb);
		if (first) {
			$('workers').value = String(hl.workers);
			$('workers').max = String(hl.max_workers || hl.workers);
			$('workers-hint').textContent = `Default: all ${hl.workers} cores of the server.`;
		}
	} catch {
		el.className = 'health down';
		text.textContent = 'server unreachable';
	}
}

// A server with a token: the saved one, else the one the person types, until the server takes it.
async function appSignIn() {
	const saved = apiSavedToken();
	if (saved) {
		try {
			await apiLogin(saved);
			return;
		} catch {
			/* a restarted server with another token: ask */
		}
	}
	const dlg = $('login');
	const form = $('login-form');
	const err = $('login-error');
	dlg.showModal();
	await new Promise((resolve) => {
		form.addEventListener('submit', async (e) => {
			e.preventDefault();
			err.hidden = true;
			try {
				await apiLogin($('login-token').value.trim());
				dlg.close();
				resolve();
			} catch (ex) {
				showError(err, { error: ex.status === 401 ? 'The server did not take this token.' : ex.error, detail: ex.detail });
			}
		});
	});
}

async function appMain() {
	$('run-form').addEventListener('submit', appStart);
	await appHealth();
	if (app.health && app.health.token_required)
		await appSignIn();
	setInterval(appHealth, 10000);
	try {
		const f = await apiFilters();
		filters.setFilters(f.filters || []);
	} catch (err) {
		showError($('upload-error'), { error: 'The list of filters could not be loaded.', detail: err.message });
	}
	jobs.refresh();
	const m = /^#job=([^&]+)$/.exec(location.hash);
	if (m)
		appOpen(decodeURIComponent(m[1]), false);
}

appMain();
