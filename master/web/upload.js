// Picking or dropping a video, checking it, and uploading it with progress and cancel.
import { apiUpload } from './api.js';
import { $, fmtBytes, showError } from './format.js';

const UPLOAD_EXTS = new Set([
	'mp4', 'm4v', 'mov', 'qt', 'mkv', 'mk3d', 'webm', 'avi', 'wmv', 'asf', 'flv', 'f4v',
	'mpg', 'mpeg', 'mpe', 'm1v', 'm2v', 'vob', 'ts', 'mts', 'm2ts', '3gp', '3g2', 'ogv',
	'mxf', 'dv', 'y4m', 'nut', 'divx', 'h264', 'hevc',
]);

// Why a file cannot be uploaded, or null when it looks like a video the server may take.
export function uploadCheck(file, maxMb) {
	const dot = file.name.lastIndexOf('.');
	const ext = dot >= 0 ? file.name.slice(dot + 1).toLowerCase() : '';
	const isVideo = file.type.startsWith('video/') || UPLOAD_EXTS.has(ext);
	if (!isVideo)
		return `“${file.name}” does not look like a video (type ${file.type || 'unknown'}). ` +
			'Pick an MP4, MOV, MKV, WebM or AVI file.';
	if (file.size === 0)
		return `“${file.name}” is empty.`;
	if (maxMb > 0 && file.size > maxMb * 1024 * 1024)
		return `“${file.name}” is ${fmtBytes(file.size)}; this server takes at most ${maxMb} MB.`;
	return null;
}

// Wires the drop zone, the file input and the progress bar. onUploaded(result, file) gets the
// server's answer to POST /upload; maxMb() says the current limit (0 when unknown).
export function uploadInit({ maxMb, onUploaded, onStart }) {
	const input = $('file');
	const drop = $('drop');
	const veil = $('drag-veil');
	const box = $('upload-progress');
	const bar = $('upload-bar');
	const pct = $('upload-pct');
	const errBox = $('upload-error');
	const cancel = $('upload-cancel');
	let current = null;
	let dragDepth = 0;

	const setBusy = (busy) => {
		box.hidden = !busy;
		input.disabled = busy;
		drop.classList.toggle('disabled', busy);
	};

	const start = (file) => {
		if (current)
			return;
		const why = uploadCheck(file, maxMb());
		showError(errBox, why);
		if (why)
			return;
		onStart?.();
		$('upload-name').textContent = file.name;
		pct.textContent = `0% of ${fmtBytes(file.size)}`;
		bar.style.width = '0%';
		bar.setAttribute('aria-valuenow', '0');
		setBusy(true);
		current = apiUpload(file, (loaded, total) => {
			const p = total > 0 ? Math.min(100, (loaded / total) * 100) : 0;
			bar.style.width = `${p}%`;
			bar.setAttribute('aria-valuenow', String(Math.round(p)));
			pct.textContent = p >= 100 ? 'checking the video…' : `${Math.floor(p)}% of ${fmtBytes(total)}`;
		});
		current.promise.then((result) => {
			onUploaded(result, file);
		}, (err) => {
			if (err.status === -1) {
				showError(errBox, null);
				return;
			}
			if (err.status === 413)
				showError(errBox, { error: 'The file is too large.', detail: err.detail });
			else if (err.status === 415 || err.status === 422)
				showError(errBox, { error: `The server cannot use “${file.name}”:`, detail: err.detail || err.error });
			else
				showError(errBox, err);
		}).finally(() => {
			current = null;
			setBusy(false);
			input.value = '';
		});
	};

	input.addEventListener('change', () => {
		if (input.files.length > 0)
			start(input.files[0]);
	});
	cancel.addEventListener('click', () => current?.abort());

	// The whole page is a drop target; a file dropped anywhere must never navigate away.
	const hasFiles = (e) => Array.from(e.dataTransfer?.types || []).includes('Files');
	document.addEventListener('dragenter', (e) => {
		if (!hasFiles(e))
			return;
		e.preventDefault();
		dragDepth++;
		veil.hidden = false;
		drop.classList.add('over');
	});
	document.addEventListener('dragleave', (e) => {
		if (!hasFiles(e))
			return;
		dragDepth = Math.max(0, dragDepth - 1);
		if (dragDepth === 0) {
			veil.hidden = true;
			drop.classList.remove('over');
		}
	});
	document.addEventListener('dragover', (e) => {
		if (!hasFiles(e))
			return;
		e.preventDefault();
		e.dataTransfer.dropEffect = current ? 'none' : 'copy';
	});
	document.addEventListener('drop', (e) => {
		if (!hasFiles(e))
			return;
		e.preventDefault();
		dragDepth = 0;
		veil.hidden = true;
		drop.classList.remove('over');
		const files = e.dataTransfer.files;
		if (files.length > 1)
			showError(errBox, 'Drop one video at a time.');
		else if (files.length === 1)
			start(files[0]);
	});

	return {
		setLimit(mb) {
			$('max-mb').textContent = mb > 0 ? String(mb) : '…';
		},
	};
}
