// The list of earlier jobs (GET /jobs): reopen one, or delete it and its files.
import { apiCleanup, apiJobs } from './api.js';
import { $, fmtBytes, fmtSeconds, fmtWhen, h, isNum, showError } from './format.js';

export function jobsInit({ onOpen, onDeleted, currentId }) {
	const list = $('jobs-list');
	const empty = $('jobs-empty');
	const errBox = $('jobs-error');
	let pending = null;

	const item = (j) => {
		const id = j.job_id;
		const name = j.filename || id;
		const meta = [h('span', { class: `badge ${j.status}` }, j.status)];
		if (j.filter_type)
			meta.push(h('span', null, j.filter_type));
		if (isNum(j.speedup))
			meta.push(h('span', null, `${j.speedup.toFixed(2)}× on ${j.cpu_cores_used || j.workers} workers`));
		else if (isNum(j.parallel_time))
			meta.push(h('span', null, fmtSeconds(j.parallel_time)));
		if (isNum(j.size))
			meta.push(h('span', null, fmtBytes(j.size)));
		if (isNum(j.created))
			meta.push(h('span', null, fmtWhen(j.created)));
		const open = h('button', { type: 'button', class: 'btn small', 'aria-label': `Open ${name}` }, 'Open');
		const del = h('button', { type: 'button', class: 'btn small danger', 'aria-label': `Delete ${name}` }, 'Delete');
		open.addEventListener('click', () => onOpen(id));
		// Two steps instead of confirm(): the second press within 4 s deletes.
		let armed = null;
		del.addEventListener('click', async () => {
			if (!armed) {
				del.textContent = 'Really delete?';
				armed = setTimeout(() => {
					armed = null;
					del.textContent = 'Delete';
				}, 4000);
				return;
			}
			clearTimeout(armed);
			del.disabled = true;
			try {
				await apiCleanup(id);
				onDeleted(id);
				refresh();
			} catch (err) {
				showError(errBox, err);
				del.disabled = false;
				del.textContent = 'Delete';
				armed = null;
			}
		});
		return h('li', { class: `job${id === currentId() ? ' current' : ''}`, dataset: { jobId: id } },
			h('div', { class: 'job-main' },
				h('span', { class: 'job-title', title: name }, name),
				h('div', { class: 'job-meta' }, meta)),
			h('div', { class: 'job-actions' }, open, del));
	};

	const refresh = () => {
		// Coalesce: one request in flight, one more queued at most.
		if (pending) {
			pending.again = true;
			return pending.promise;
		}
		pending = { again: false };
		pending.promise = apiJobs().then((data) => {
			showError(errBox, null);
			const jobs = Array.isArray(data.jobs) ? data.jobs : [];
			list.replaceChildren(...jobs.map(item));
			empty.hidden = jobs.length > 0;
		}, (err) => {
			showError(errBox, err);
		}).finally(() => {
			const again = pending.again;
			pending = null;
			if (again)
				refresh();
		});
		return pending.promise;
	};

	$('jobs-refresh').addEventListener('click', refresh);
	return {
		refresh,
		markCurrent() {
			for (const li of list.children)
				li.classList.toggle('current', li.dataset.jobId === currentId());
		},
	};
}
