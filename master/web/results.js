// The end of a job: times as a bar chart, speedup and efficiency, identical or not, the
// original and the processed video side by side, and the download.
import { apiDownloadUrl, apiInputUrl } from './api.js';
import { $, fmtSeconds, h, isNum } from './format.js';

function resultsFact(label, value) {
	return h('div', null, h('dt', null, label), h('dd', null, value));
}

// A <video> that says so in words when the browser cannot play what the server sent.
function resultsVideo(id, src, whenUnplayable) {
	const v = h('video', { id, src, controls: true, preload: 'metadata', playsinline: true, muted: true });
	v.addEventListener('error', () => {
		v.replaceWith(h('p', { class: 'note' }, whenUnplayable));
	});
	return v;
}

function resultsChart(s) {
	const box = $('res-chart');
	box.textContent = '';
	const seq = s.sequential_time;
	const par = s.parallel_time;
	const n = isNum(s.cpu_cores_used) ? s.cpu_cores_used : s.workers;
	const max = Math.max(isNum(seq) ? seq : 0, isNum(par) ? par : 0);
	if (!(max > 0)) {
		box.append(h('p', { class: 'muted' }, 'No times were recorded.'));
		return;
	}
	const row = (label, t, cls, id, extra) => h('div', { class: 'chart-row' },
		h('span', { class: 'chart-label' }, label),
		h('div', { class: 'chart-track' },
			h('div', { class: `chart-bar ${cls}`, style: `width: calc((100% - 4.5rem) * ${(t / max).toFixed(4)})` }),
			h('span', { id, class: 'chart-value' }, fmtSeconds(t)),
			extra));
	if (isNum(seq))
		box.append(row('Sequential · 1 worker', seq, 'seq', 'res-seq-time'));
	if (isNum(par)) {
		// Where the parallel bar would end if every worker were fully used: sequential / workers.
		let ideal = null;
		if (isNum(seq) && n > 1) {
			ideal = h('span', { class: 'chart-ideal', style: `left: calc((100% - 4.5rem) * ${(seq / n / max).toFixed(4)})`, title: `ideal: ${fmtSeconds(seq / n)} (sequential ÷ ${n})` });
		}
		box.append(row(`Parallel · ${n} worker${n === 1 ? '' : 's'}`, par, 'par', 'res-par-time', ideal));
		if (ideal)
			box.append(h('p', { class: 'chart-note' }, `The dashed line is the ideal: sequential time ÷ ${n} workers = ${fmtSeconds(seq / n)}.`));
	}
	if (!isNum(seq))
		box.append(h('p', { class: 'chart-note' }, 'The one-worker baseline was not run, so there is no speedup to show.'));
}

export function resultsInit() {
	const section = $('results');
	const playBoth = $('play-both');
	let linking = false;

	const videos = () => [$('res-original-video'), $('res-processed-video')].filter(Boolean);

	playBoth.addEventListener('click', () => {
		const [a, b] = [$('res-original-video'), $('res-processed-video')];
		if (!a || !b)
			return;
		if (a.paused || b.paused) {
			b.currentTime = a.currentTime;
			a.play().catch(() => {});
			b.play().catch(() => {});
		} else {
			a.pause();
			b.pause();
		}
	});

	// Keeps both videos at the same spot when one of them is seeked.
	const link = () => {
		const vs = videos();
		for (const v of vs) {
			const other = vs.find((x) => x !== v);
			v.addEventListener('seeked', () => {
				if (linking || !other || Math.abs(other.currentTime - v.currentTime) < 0.05)
					return;
				linking = true;
				other.currentTime = v.currentTime;
				setTimeout(() => { linking = false; }, 50);
			});
			v.addEventListener('play', () => { playBoth.textContent = 'Pause both'; });
			v.addEventListener('pause', () => {
				if (vs.every((x) => x.paused))
					playBoth.textContent = 'Play both';
			});
		}
		playBoth.hidden = vs.length < 2;
		playBoth.textContent = 'Play both';
	};

	return {
		hide() {
			section.hidden = true;
			for (const v of videos())
				v.pause();
		},
		show(s, job) {
			const speedup = s.speedup;
			const n = isNum(s.cpu_cores_used) ? s.cpu_cores_used : s.workers;
			$('res-speedup').textContent = isNum(speedup) ? `${speedup.toFixed(2)}×` : '–';
			$('res-speedup-note').textContent = isNum(speedup) ? 'sequential time ÷ parallel time' : 'needs the baseline';
			$('res-efficiency').textContent = isNum(s.efficiency) ? `${Math.round(s.efficiency * 100)}%` : '–';
			$('res-efficiency-note').textContent = isNum(speedup) ? `speedup ÷ ${n} worker${n === 1 ? '' : 's'}` : 'needs the baseline';
			const ident = $('res-identical');
			ident.className = `metric-value${s.identical === true ? ' yes' : s.identical === false ? ' no' : ''}`;
			ident.textContent = s.identical === true ? 'Yes' : s.identical === false ? 'No' : '–';
			$('res-identical-note').textContent = s.identical === null || s.identical === undefined
				? 'not compared (needs the baseline)'
				: s.identical ? 'sequential and parallel outputs match' : 'the sequential and parallel outputs differ';
			resultsChart(s);

			const facts = $('res-facts');
			facts.textContent = '';
			facts.append(
				resultsFact('Filter', s.filter_type || '–'),
				resultsFact('Segments', isNum(s.segments_total) ? String(s.segments_total) : '–'),
				resultsFact('Frames in / out', `${isNum(s.frames_in) ? s.frames_in : '–'} / ${isNum(s.frames_out) ? s.frames_out : '–'}`),
				resultsFact('Split', fmtSeconds(s.split_time)),
				resultsFact('Merge', fmtSeconds(s.merge_time)),
				resultsFact('Total', fmtSeconds(s.total_time)));
			if (isNum(s.speedup))
				facts.append(resultsFact('Time saved', fmtSeconds(s.sequential_time - s.parallel_time)));
			if ((s.retries || []).length)
				facts.append(resultsFact('Retries', String(s.retries.length)));
			if (s.format && s.format.container)
				facts.append(resultsFact('Format', `${s.format.container.toUpperCase()}, ${s.format.codec}`));
			// what the output could not keep as it was, said rather than hidden
			for (const [label, list] of [['Converted', s.converted], ['Dropped', s.dropped]]) {
				if (Array.isArray(list) && list.length)
					facts.append(resultsFact(label, list.join('; ')));
			}

			const orig = $('res-original');
			const proc = $('res-processed');
			orig.textContent = '';
			proc.textContent = '';
			orig.append(resultsVideo('res-original-video', apiInputUrl(job.id),
				'This browser cannot play the original format; the processed MP4 is on the right.'));
			// The same job may be rendered again: a new URL keeps an old copy out of the way.
			const version = isNum(s.updated) ? `?v=${Math.round(s.updated * 1000)}` : '';
			proc.append(resultsVideo('res-processed-video', apiDownloadUrl(job.id) + version,
				'This browser cannot play the processed video; download it instead.'));
			link();

			const dl = $('download');
			dl.href = apiDownloadUrl(job.id);
			const ext = s.format && s.format.container ? s.format.container : 'mp4';
			// the server names the file (Content-Disposition), with its container's extension
			dl.setAttribute('download', '');
			dl.textContent = `Download ${ext.toUpperCase()}`;
			section.hidden = false;
		},
	};
}
