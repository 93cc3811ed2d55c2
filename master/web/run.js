// The live view of a job: where it is, a progress bar per phase, and the timeline.
import { $, fmtSeconds, h, isNum, showError } from './format.js';
import { timelineInit } from './timeline.js';

const RUN_ORDER = ['probing', 'splitting', 'sequential', 'parallel', 'merging', 'done'];
const RUN_NAMES = {
	probing: 'Probing', splitting: 'Splitting', sequential: 'Sequential baseline',
	parallel: 'Parallel', merging: 'Merging', done: 'Done', failed: 'Failed',
};

const runClamp = (x) => Math.max(0, Math.min(1, x));

// The phase a failed job stopped in, from what it left behind.
function runFailedAt(s) {
	const tl = s.timeline || [];
	if (tl.some((e) => e.phase === 'parallel'))
		return isNum(s.parallel_time) ? 'merging' : 'parallel';
	if (tl.some((e) => e.phase === 'sequential'))
		return isNum(s.sequential_time) ? 'parallel' : 'sequential';
	return isNum(s.split_time) ? (s.baseline === false ? 'parallel' : 'sequential') : 'splitting';
}

// One entry per box: its state ('wait' | 'busy' | 'done' | 'skip' | 'failed'), fraction, info.
function runPhases(s) {
	const failed = s.status === 'failed';
	const at = failed ? runFailedAt(s) : s.status === 'completed' ? 'done' : s.phase || 'probing';
	const idx = RUN_ORDER.indexOf(at);
	const tl = s.timeline || [];
	const total = isNum(s.segments_total) && s.segments_total > 0 ? s.segments_total : null;
	const pct = isNum(s.percent) ? s.percent : isNum(s.progress) ? s.progress : 0;
	const state = (name) => {
		const i = RUN_ORDER.indexOf(name);
		if (i < idx)
			return 'done';
		if (i > idx)
			return 'wait';
		return failed ? 'failed' : 'busy';
	};
	const segPhase = (name, from, span) => {
		const st = name === 'sequential' && s.baseline === false ? 'skip' : state(name);
		const done = tl.filter((e) => e.phase === name && e.result === 'done').length;
		const time = name === 'sequential' ? s.sequential_time : s.parallel_time;
		let frac = st === 'done' ? 1 : 0;
		if (st === 'busy' || st === 'failed')
			frac = Math.max(total ? done / total : 0, runClamp((pct - from) / span));
		let info = '';
		if (st === 'skip')
			info = 'off';
		else if (st === 'done' && isNum(time))
			info = fmtSeconds(time);
		else if (st !== 'wait' && total)
			info = `${done}/${total} segments`;
		return { name, st, frac, info };
	};
	const base = s.baseline === false;
	if (s.status === 'queued' || s.status === 'uploaded') {
		return ['splitting', 'sequential', 'parallel', 'merging'].map((name) =>
			({ name, st: name === 'sequential' && base ? 'skip' : 'wait', frac: 0, info: '' }));
	}
	const split = {
		name: 'splitting', st: idx <= 1 ? (failed ? 'failed' : 'busy') : 'done',
		frac: idx > 1 ? 1 : 0, info: at === 'probing' ? 'probing' : '',
	};
	if (split.st === 'done' && isNum(s.split_time))
		split.info = fmtSeconds(s.split_time);
	const merge = { name: 'merging', st: state('merging'), frac: state('merging') === 'done' ? 1 : 0, info: '' };
	if (merge.st === 'done' && isNum(s.merge_time))
		merge.info = fmtSeconds(s.merge_time);
	return [
		split,
		segPhase('sequential', 5, 45),
		segPhase('parallel', base ? 5 : 50, base ? 90 : 45),
		merge,
	];
}

export function runInit() {
	const section = $('run');
	const list = $('phases');
	const line = $('run-state');
	const errBox = $('job-error');
	const timeline = timelineInit($('timeline'), $('timeline-summary'));
	const boxes = {};

	for (const name of ['splitting', 'sequential', 'parallel', 'merging']) {
		const fill = h('div', { class: 'bar-fill', role: 'progressbar', 'aria-label': `${RUN_NAMES[name]} progress`, 'aria-valuemin': '0', 'aria-valuemax': '100' });
		const info = h('span', { class: 'phase-info' });
		const li = h('li', { class: `phase ${name === 'sequential' ? 'seq' : ''}`, dataset: { phase: name } },
			h('div', { class: 'phase-top' }, h('span', { class: 'phase-name' }, RUN_NAMES[name]), info),
			h('div', { class: 'bar' }, fill));
		boxes[name] = { li, fill, info, bar: li.querySelector('.bar') };
		list.append(li);
	}

	const stateLine = (s) => {
		line.textContent = '';
		const pct = isNum(s.progress) ? s.progress : Math.round(s.percent || 0);
		if (s.status === 'queued') {
			const pos = isNum(s.queue_position) && s.queue_position > 1 ? ` (place ${s.queue_position} in the queue)` : '';
			line.append(h('strong', null, 'Queued'), ` · waiting for the job ahead to finish${pos}`);
		} else if (s.status === 'completed') {
			line.append(h('strong', null, 'Done'), isNum(s.total_time) ? ` in ${fmtSeconds(s.total_time)}` : '');
		} else if (s.status === 'failed') {
			line.append(h('strong', null, 'Failed'));
		} else if (s.status === 'uploaded') {
			line.append('Not started yet.');
		} else {
			line.append(h('strong', null, RUN_NAMES[s.phase] || s.phase || 'Starting'), ` · ${pct}%`);
			if (isNum(s.segments_total) && s.segments_total > 0 && (s.phase === 'sequential' || s.phase === 'parallel'))
				line.append(` · ${s.segments_total} segments`);
		}
	};

	return {
		show() {
			section.hidden = false;
		},
		hide() {
			section.hidden = true;
			timeline.clear();
		},
		reset() {
			timeline.clear();
			showError(errBox, null);
		},
		update(s) {
			section.hidden = false;
			stateLine(s);
			for (const p of runPhases(s)) {
				const b = boxes[p.name];
				b.li.className = `phase${p.name === 'sequential' ? ' seq' : ''}${p.st === 'busy' ? ' active' : ''}` +
					`${p.st === 'skip' ? ' skipped' : ''}${p.st === 'failed' ? ' failed' : ''}`;
				const indeterminate = p.st === 'busy' && (p.name === 'splitting' || p.name === 'merging');
				b.bar.classList.toggle('busy', indeterminate);
				b.fill.style.width = `${(p.frac * 100).toFixed(1)}%`;
				if (indeterminate)
					b.fill.removeAttribute('aria-valuenow');
				else
					b.fill.setAttribute('aria-valuenow', String(Math.round(p.frac * 100)));
				b.info.textContent = p.st === 'wait' ? 'waiting' : p.st === 'skip' ? 'off' : p.st === 'failed' ? 'failed' : p.info;
			}
			// a queued record may still carry the timeline of an earlier run of the same job
			timeline.update(s.status === 'queued' ? { ...s, timeline: [], sequential_time: null, parallel_time: null } : s);
			if (s.status === 'failed')
				showError(errBox, { error: 'The job failed.', detail: s.error || 'The server gave no reason.' });
			else
				showError(errBox, null);
		},
	};
}
