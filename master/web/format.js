// Number formatting and a small DOM builder shared by every module.

// $('id'): the page's element of that id.
export const $ = (id) => document.getElementById(id);

// h('div', {class: 'x', onclick: f}, child, 'text', ...): an element; null children are skipped.
export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === null || v === undefined || v === false)
			continue;
		if (k.startsWith('on'))
			el.addEventListener(k.slice(2), v);
		else if (k === 'class')
			el.className = v;
		else if (k === 'dataset')
			Object.assign(el.dataset, v);
		else
			el.setAttribute(k, v === true ? '' : v);
	}
	for (const c of children.flat()) {
		if (c !== null && c !== undefined && c !== false)
			el.append(c instanceof Node ? c : String(c));
	}
	return el;
}

export function isNum(v) {
	return typeof v === 'number' && Number.isFinite(v);
}

// 0.42 s, 12.3 s, 1:05.2
export function fmtSeconds(s) {
	if (!isNum(s))
		return '–';
	if (s < 10)
		return `${s.toFixed(2)} s`;
	if (s < 60)
		return `${s.toFixed(1)} s`;
	const m = Math.floor(s / 60);
	const rest = s - m * 60;
	return `${m}:${rest < 10 ? '0' : ''}${rest.toFixed(1)}`;
}

export function fmtBytes(n) {
	if (!isNum(n))
		return '–';
	const units = ['B', 'KB', 'MB', 'GB', 'TB'];
	let i = 0;
	while (n >= 1024 && i < units.length - 1) {
		n /= 1024;
		i++;
	}
	return `${i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

export function fmtFps(v) {
	if (!isNum(v))
		return '–';
	return Number.isInteger(v) ? String(v) : v.toFixed(2).replace(/0$/, '');
}

// epoch seconds -> "14:05" today, else "3 Mar 14:05"
export function fmtWhen(epoch) {
	if (!isNum(epoch))
		return '';
	const d = new Date(epoch * 1000);
	const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
	if (d.toDateString() === new Date().toDateString())
		return time;
	return `${d.toLocaleDateString([], { day: 'numeric', month: 'short' })} ${time}`;
}

// Shows or hides an alert box; msg may be an ApiError, an Error or a string.
export function showError(box, msg) {
	if (!msg) {
		box.hidden = true;
		box.textContent = '';
		return;
	}
	box.textContent = '';
	if (typeof msg === 'string') {
		box.append(msg);
	} else if (msg.error !== undefined) {
		box.append(h('strong', null, msg.error), msg.detail ? ` ${msg.detail}` : '');
	} else {
		box.append(msg.message || String(msg));
	}
	box.hidden = false;
}
