// The filter chooser: a select from GET /filters, a control per parameter, before/after stills.
import { apiPreview } from './api.js';
import { $, h } from './format.js';

// A slider step of about 1/100 of the range, rounded to 1, 2 or 5 times a power of ten.
function filtersNiceStep(p) {
	if (p.type === 'integer')
		return Math.max(1, Math.round((p.max - p.min) / 100));
	const raw = (p.max - p.min) / 100;
	const pow = 10 ** Math.floor(Math.log10(raw));
	const m = raw / pow;
	return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * pow;
}

const filtersClean = (v) => Number(v.toFixed(4));

export function filtersInit() {
	const select = $('filter');
	const desc = $('filter-desc');
	const fieldset = $('params');
	const list = $('params-list');
	const preview = $('preview');
	const note = $('preview-note');
	const tInput = $('preview-t');
	const tOut = $('preview-t-out');
	const imgBefore = $('preview-before');
	const imgAfter = $('preview-after');
	let filters = [];
	let job = null;
	let previews = 'unknown';	/* 'unknown' | 'yes' | 'no': does the server have /preview? */
	let timer = null;
	let abort = null;
	let shownBefore = '';	/* the "before" still on screen: job + t */
	const urls = { before: null, after: null };

	const current = () => filters.find((f) => f.name === select.value);

	const setImage = (which, url) => {
		const img = which === 'before' ? imgBefore : imgAfter;
		if (urls[which] && urls[which] !== url && urls[which] !== urls[which === 'before' ? 'after' : 'before'])
			URL.revokeObjectURL(urls[which]);
		urls[which] = url;
		img.src = url;
	};

	const renderParams = () => {
		const f = current();
		desc.textContent = f ? f.description : '';
		list.textContent = '';
		const params = f?.params || [];
		fieldset.hidden = params.length === 0;
		for (const p of params) {
			const id = `param-${p.name}`;
			const range = h('input', {
				type: 'range', id: `${id}-range`, min: p.min, max: p.max,
				step: filtersNiceStep(p), value: p.default, 'aria-label': `${p.name} slider`,
				tabindex: '-1',
			});
			const num = h('input', {
				type: 'number', id, name: p.name, min: p.min, max: p.max,
				step: p.type === 'integer' ? 1 : 'any', value: p.default, required: true,
				inputmode: p.type === 'integer' ? 'numeric' : 'decimal',
				'aria-describedby': `${id}-desc`,
			});
			const reset = h('button', {
				type: 'button', class: 'btn icon', title: `Back to the default, ${p.default}`,
				'aria-label': `Reset ${p.name} to ${p.default}`,
			}, '↺');
			range.addEventListener('input', () => {
				num.value = String(filtersClean(Number(range.value)));
				schedule();
			});
			num.addEventListener('input', () => {
				if (num.value !== '' && num.checkValidity())
					range.value = num.value;
				schedule();
			});
			reset.addEventListener('click', () => {
				num.value = range.value = String(p.default);
				schedule();
			});
			list.append(h('div', { class: 'param' },
				h('label', { for: id }, p.name, h('span', { class: 'muted' }, ` (${p.min} to ${p.max})`)),
				range, num, reset,
				h('p', { id: `${id}-desc`, class: 'param-desc muted small' }, p.description)));
		}
		schedule();
	};

	// {filter_type, params} from the controls, or a string saying what is wrong.
	const value = () => {
		const f = current();
		if (!f)
			return 'Choose a filter.';
		const params = {};
		for (const p of f.params || []) {
			const num = $(`param-${p.name}`);
			const v = Number(num.value);
			if (num.value.trim() === '' || !Number.isFinite(v))
				return `${p.name}: enter a number from ${p.min} to ${p.max}.`;
			if (v < p.min || v > p.max)
				return `${p.name} must be from ${p.min} to ${p.max}; ${v} is outside.`;
			if (p.type === 'integer' && !Number.isInteger(v))
				return `${p.name} must be a whole number.`;
			params[p.name] = v;
		}
		return { filter_type: f.name, params };
	};

	const spec = (v) => {
		const parts = Object.entries(v.params).map(([k, x]) => `${k}=${x}`);
		return [v.filter_type, ...parts].join(':');
	};

	const showNote = (text) => {
		note.textContent = text || '';
		note.hidden = !text;
	};

	const refresh = async () => {
		timer = null;
		if (!job || previews === 'no')
			return;
		const v = value();
		if (typeof v === 'string') {
			showNote(v);
			return;
		}
		abort?.abort();
		abort = new AbortController();
		const signal = abort.signal;
		const t = Number(tInput.value);
		const wantBefore = `${job.id}@${t}`;
		preview.classList.add('loading');
		try {
			if (shownBefore !== wantBefore) {
				const before = await apiPreview(job.id, 'none', t, signal);
				setImage('before', before);
				shownBefore = wantBefore;
			}
			if (v.filter_type === 'none')
				setImage('after', urls.before);
			else
				setImage('after', await apiPreview(job.id, spec(v), t, signal));
			previews = 'yes';
			preview.hidden = false;
			showNote('');
		} catch (err) {
			if (err.name === 'AbortError')
				return;
			if (err.status === 404 && previews === 'unknown') {
				// The job was just uploaded, so a 404 means this server has no /preview.
				previews = 'no';
				preview.hidden = true;
				showNote('This server does not make preview stills, so there is no before/after here.');
			} else {
				showNote(`No preview: ${err.detail || err.error || err.message}`);
			}
		} finally {
			if (!signal.aborted)
				preview.classList.remove('loading');
		}
	};

	function schedule() {
		clearTimeout(timer);
		timer = setTimeout(refresh, 250);
	}

	select.addEventListener('change', renderParams);
	tInput.addEventListener('input', () => {
		tOut.textContent = `${Number(tInput.value).toFixed(1)} s`;
		schedule();
	});

	return {
		setFilters(all) {
			const keep = select.value;
			// "none" goes last: it is a measurement, not a look.
			filters = [...all.filter((f) => f.name !== 'none'), ...all.filter((f) => f.name === 'none')];
			select.textContent = '';
			for (const f of filters) {
				const label = f.name === 'none' ? 'none (no filter: decode and encode only)' : f.name.replace(/_/g, ' ');
				select.append(h('option', { value: f.name }, label));
			}
			if (filters.some((f) => f.name === keep))
				select.value = keep;
			renderParams();
		},
		// job: {id, duration}; null hides the previews.
		setJob(j) {
			job = j;
			shownBefore = '';
			preview.hidden = true;
			const d = j && j.duration > 0 ? j.duration : 0;
			tInput.max = String(Math.max(0.1, d - 0.05).toFixed(2));
			tInput.value = String(Math.min(1, d / 3).toFixed(1));
			tOut.textContent = `${Number(tInput.value).toFixed(1)} s`;
			if (previews === 'no')
				showNote('This server does not make preview stills, so there is no before/after here.');
			schedule();
		},
		// Preselects a filter and its parameters (reopening a job).
		choose(filterType, params) {
			if (!filters.some((f) => f.name === filterType))
				return;
			select.value = filterType;
			renderParams();
			for (const [k, v] of Object.entries(params || {})) {
				const num = $(`param-${k}`);
				if (num) {
					num.value = String(v);
					$(`param-${k}-range`).value = String(v);
				}
			}
		},
		previewsAvailable: () => previews,
		value,
		spec,
	};
}
