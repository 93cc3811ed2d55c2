// The timeline: one lane per worker, one bar per segment, the sequential baseline and the
// parallel run drawn as two groups on the same time scale, so the parallel one is visibly shorter.
import { fmtSeconds, isNum } from './format.js';

const TL_GUTTER = 44;	/* lane labels */
const TL_RIGHT = 12;
const TL_TITLE = 24;
const TL_LANE = 24;
const TL_LANE_GAP = 6;
const TL_GROUP_GAP = 18;
const TL_AXIS = 22;

// Tick spacing of 1, 2 or 5 times a power of ten giving at most `max` ticks.
function timelineTick(span, max) {
	const raw = span / Math.max(1, max);
	const pow = 10 ** Math.floor(Math.log10(raw));
	for (const m of [1, 2, 5, 10]) {
		if (m * pow >= raw)
			return m * pow;
	}
	return 10 * pow;
}

function timelineEsc(s) {
	return String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

const timelineTerminal = (s) => s && (s.status === 'completed' || s.status === 'failed');

// The groups to draw from a status record, with their bars in job time.
function timelineGroups(s, now) {
	const entries = Array.isArray(s.timeline) ? s.timeline : [];
	const over = timelineTerminal(s);
	const groups = [];
	const make = (phase, lanes, title) => {
		const bars = entries.filter((e) => e.phase === phase && isNum(e.start)).map((e) => {
			const running = !isNum(e.end);
			// A bar without an end in a finished job was cut short: draw it as long as we know.
			const end = running ? Math.max(e.start, over ? e.start : now) : e.end;
			return { ...e, end, running: running && !over };
		});
		const maxWorker = bars.reduce((m, b) => Math.max(m, b.worker), -1);
		const origin = bars.length ? Math.min(...bars.map((b) => b.start)) : null;
		let span = bars.length ? Math.max(...bars.map((b) => b.end)) - origin : 0;
		const phaseTime = phase === 'sequential' ? s.sequential_time : s.parallel_time;
		if (isNum(phaseTime) && phaseTime > span)
			span = phaseTime;
		return { phase, title, lanes: Math.max(lanes, maxWorker + 1), bars, origin, span, phaseTime };
	};
	const seqAny = entries.some((e) => e.phase === 'sequential');
	if (s.baseline !== false || seqAny)
		groups.push(make('sequential', 1, 'Sequential baseline'));
	const par = isNum(s.cpu_cores_used) && s.cpu_cores_used > 0 ? s.cpu_cores_used
		: isNum(s.workers) && s.workers > 0 ? s.workers : 1;
	groups.push(make('parallel', par, 'Parallel'));
	return groups;
}

// A lane's label: W<slot>, and the worker's host when it is a remote one ("render1 W2").
function timelineLaneName(b) {
	if (!b.remote || typeof b.host !== 'string')
		return `W${b.worker}`;
	const host = b.host.replace(/\/\d+$/, '');
	return `${host.length > 16 ? `${host.slice(0, 15)}…` : host} W${b.worker}`;
}

export function timelineSvg(s, now, width) {
	const groups = timelineGroups(s, now);
	// Lanes are named after the machine that ran them (remote workers): the gutter grows to fit.
	const longest = Math.max(0, ...groups.map((g) => Math.max(0, ...g.bars.map((b) => timelineLaneName(b).length))));
	const gutter = Math.max(TL_GUTTER, Math.min(150, 7 * longest + 14));
	const plotW = Math.max(120, width - gutter - TL_RIGHT);
	const maxSpan = Math.max(0.5, ...groups.map((g) => g.span));
	const scale = plotW / maxSpan;
	const tick = timelineTick(maxSpan, Math.floor(plotW / 90));
	let y = 0;
	const out = [];
	const total = isNum(s.segments_total) && s.segments_total > 0 ? s.segments_total : null;

	for (const g of groups) {
		const n = g.lanes;
		const shown = isNum(g.phaseTime) ? ` · ${fmtSeconds(g.phaseTime)}` : '';
		const sub = `${n} worker${n === 1 ? '' : 's'}${shown}`;
		out.push(`<g class="tl-group" data-phase="${g.phase}">`);
		out.push(`<text class="tl-group-title" x="${gutter}" y="${y + 15}">${g.title}` +
			`<tspan class="tl-group-sub" dx="8">${timelineEsc(sub)}</tspan></text>`);
		y += TL_TITLE;
		for (let w = 0; w < n; w++) {
			const ly = y + w * (TL_LANE + TL_LANE_GAP);
			const laneBars = g.bars.filter((x) => x.worker === w);
			const laneName = laneBars.length ? timelineLaneName(laneBars[laneBars.length - 1]) : `W${w}`;
			out.push(`<g class="tl-lane" data-phase="${g.phase}" data-worker="${w}">`);
			out.push(`<rect class="tl-lane-bg" x="${gutter}" y="${ly}" width="${plotW}" height="${TL_LANE}" rx="5"/>`);
			out.push(`<text class="tl-lane-label" x="${gutter - 8}" y="${ly + TL_LANE / 2 + 4}" text-anchor="end">${timelineEsc(laneName)}</text>`);
			for (const b of laneBars) {
				const x = gutter + (b.start - g.origin) * scale;
				const bw = Math.max(3, (b.end - b.start) * scale - 2);
				const cls = ['tl-bar', g.phase === 'sequential' ? 'seq' : 'par'];
				if (b.running)
					cls.push('running');
				if (b.result === 'retried' || b.result === 'failed')
					cls.push(b.result);
				const segNo = b.segment + 1;
				const what = b.running ? 'running' : b.result || 'done';
				const tip = `segment ${segNo}${total ? ` of ${total}` : ''} · worker ${w}${b.host ? ` (${b.host}${b.remote ? ', remote' : ''})` : ''} · ` +
					`${fmtSeconds(b.end - b.start)} · ${what}`;
				out.push(`<g class="${cls.join(' ')}" data-segment="${b.segment}"><title>${timelineEsc(tip)}</title>` +
					`<rect x="${x.toFixed(1)}" y="${ly + 2}" width="${bw.toFixed(1)}" height="${TL_LANE - 4}"/>`);
				if (bw >= 22)
					out.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${ly + TL_LANE / 2 + 4}" text-anchor="middle">${segNo}</text>`);
				out.push('</g>');
			}
			out.push('</g>');
		}
		if (g.bars.length === 0) {
			const waiting = g.phase === 'sequential' || !groups.some((x) => x.bars.length) ? 'waiting for the first segment…' : 'waiting for the baseline to finish…';
			out.push(`<text class="tl-empty" x="${gutter + 10}" y="${y + TL_LANE / 2 + 4}">` +
				`${timelineTerminal(s) ? 'not run' : s.status === 'queued' ? 'queued…' : waiting}</text>`);
		}
		out.push('</g>');
		y += n * (TL_LANE + TL_LANE_GAP) - TL_LANE_GAP + TL_GROUP_GAP;
	}
	y -= TL_GROUP_GAP - 6;

	// Grid lines through every group, labels once at the bottom: seconds since each phase began.
	const axis = ['<g class="tl-axis">'];
	for (let t = 0; t <= maxSpan + 1e-9; t += tick) {
		const x = gutter + t * scale;
		axis.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="0" y2="${y}" stroke-dasharray="2 4"/>`);
		const label = tick < 1 ? t.toFixed(tick < 0.1 ? 2 : 1) : String(Math.round(t));
		axis.push(`<text x="${x.toFixed(1)}" y="${y + 14}" text-anchor="middle">${label}s</text>`);
	}
	axis.push('</g>');
	const height = y + TL_AXIS;
	const stripes = (id, colour) => `<pattern id="${id}" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
		`<rect width="8" height="8" fill="${colour}" opacity="0.45"/><rect width="4" height="8" fill="${colour}"/></pattern>`;
	const defs = `<defs>${stripes('tl-stripes-seq', '#64748b')}${stripes('tl-stripes-par', '#38bdf8')}</defs>`;
	return { markup: `${defs}${axis.join('')}${out.join('')}`, height, groups };
}

// A sentence for screen readers and for the caption under the plot.
function timelineSummary(s, groups) {
	const parts = [];
	const total = s.segments_total;
	if (isNum(total) && total > 0)
		parts.push(`${total} segment${total === 1 ? '' : 's'}`);
	for (const g of groups) {
		const done = g.bars.filter((b) => !b.running && (b.result === 'done' || !b.result)).length;
		const n = g.lanes;
		let t = `${g.phase}: ${done}${isNum(total) ? `/${total}` : ''} done on ${n} worker${n === 1 ? '' : 's'}`;
		if (isNum(g.phaseTime))
			t += ` in ${fmtSeconds(g.phaseTime)}`;
		parts.push(t);
	}
	const retried = (s.timeline || []).filter((e) => e.result === 'retried').length;
	if (retried)
		parts.push(`${retried} segment${retried === 1 ? '' : 's'} retried after a worker failed`);
	return parts.join(' · ');
}

export function timelineInit(container, summaryEl) {
	let status = null;
	let offset = null;	/* local clock minus job clock, in seconds */
	let ticker = null;

	const clock = () => performance.now() / 1000;
	const jobNow = () => (offset === null ? 0 : clock() - offset);

	const draw = () => {
		if (!status) {
			container.textContent = '';
			summaryEl.textContent = '';
			return;
		}
		const width = Math.max(280, container.clientWidth - 8);
		const { markup, height, groups } = timelineSvg(status, jobNow(), width);
		const summary = timelineSummary(status, groups);
		container.innerHTML = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" ` +
			`width="${width}" height="${height}" role="img" aria-label="${timelineEsc(`Timeline. ${summary}`)}">${markup}</svg>`;
		summaryEl.textContent = summary;
		const running = !timelineTerminal(status) && (status.timeline || []).some((e) => !isNum(e.end));
		if (running && !ticker)
			ticker = setInterval(draw, 100);
		else if (!running && ticker) {
			clearInterval(ticker);
			ticker = null;
		}
	};

	new ResizeObserver(() => draw()).observe(container);

	return {
		update(s) {
			// An event reaches us after it happened, so the smallest (local - job) time seen
			// is the best guess of the offset between the two clocks.
			let latest = -Infinity;
			for (const e of s.timeline || []) {
				latest = Math.max(latest, e.start, isNum(e.end) ? e.end : -Infinity);
			}
			if (Number.isFinite(latest)) {
				const guess = clock() - latest;
				offset = offset === null ? guess : Math.min(offset, guess);
			}
			status = s;
			draw();
		},
		clear() {
			status = null;
			offset = null;
			clearInterval(ticker);
			ticker = null;
			draw();
		},
	};
}
