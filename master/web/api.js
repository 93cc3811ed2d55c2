// The master's HTTP API: JSON requests, the upload with progress, the event stream of a job.

export class ApiError extends Error {
	constructor(status, error, detail) {
		super(detail ? `${error}: ${detail}` : error);
		this.status = status;
		this.error = error;
		this.detail = detail || '';
	}
}

const enc = encodeURIComponent;

// The server's own words when it sent {"error","detail"}, else the status line.
function apiErrorFrom(status, text) {
	let data = null;
	try {
		data = text ? JSON.parse(text) : null;
	} catch {
		/* not JSON: a proxy page or an empty body */
	}
	if (data && typeof data.error === 'string')
		return new ApiError(status, data.error, typeof data.detail === 'string' ? data.detail : '');
	return new ApiError(status, `The server answered ${status}`, text ? text.slice(0, 200) : '');
}

// A server started with --token-file wants its token on every API call. The page keeps it for
// the tab only (sessionStorage: gone with the tab, never sent to another site). Links that
// cannot carry a header (video, download, event stream) use the HttpOnly cookie of apiLogin.
const TOKEN_KEY = 'vr-token';

function apiAuth(headers) {
	const token = sessionStorage.getItem(TOKEN_KEY);
	if (token)
		headers.Authorization = `Bearer ${token}`;
	return headers;
}

// POST /login with a token: resolves once the server took it (and set its cookie).
export async function apiLogin(token) {
	let res;
	try {
		res = await fetch('/login', { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
	} catch (e) {
		throw new ApiError(0, 'The server cannot be reached.', e.message);
	}
	if (!res.ok)
		throw apiErrorFrom(res.status, await res.text());
	sessionStorage.setItem(TOKEN_KEY, token);
}

export const apiSavedToken = () => sessionStorage.getItem(TOKEN_KEY);

async function apiRequest(method, path, body) {
	const opts = { method, headers: apiAuth({ Accept: 'application/json' }) };
	if (body !== undefined) {
		opts.headers['Content-Type'] = 'application/json';
		opts.body = JSON.stringify(body);
	}
	let res;
	try {
		res = await fetch(path, opts);
	} catch (e) {
		throw new ApiError(0, 'The server cannot be reached.', e.message);
	}
	const text = await res.text();
	if (!res.ok)
		throw apiErrorFrom(res.status, text);
	try {
		return text ? JSON.parse(text) : {};
	} catch {
		throw new ApiError(res.status, 'The server sent something that is not JSON.', text.slice(0, 200));
	}
}

export const apiHealth = () => apiRequest('GET', '/health');
export const apiFilters = () => apiRequest('GET', '/filters');
export const apiJobs = () => apiRequest('GET', '/jobs');
export const apiStatus = (id) => apiRequest('GET', `/status/${enc(id)}`);
export const apiProcess = (body) => apiRequest('POST', '/process', body);
export const apiCleanup = (id) => apiRequest('DELETE', `/cleanup/${enc(id)}`);

export const apiInputUrl = (id) => `/input/${enc(id)}`;
export const apiDownloadUrl = (id) => `/download/${enc(id)}`;
export const apiStreamUrl = (id) => `/stream/${enc(id)}/index.m3u8`;
const apiPreviewUrl = (id, spec, t) =>
	`/preview/${enc(id)}?filter=${enc(spec)}&t=${enc(t.toFixed(2))}`;

// One frame through a filter, as an object URL (the caller revokes it).
export async function apiPreview(id, spec, t, signal) {
	let res;
	try {
		res = await fetch(apiPreviewUrl(id, spec, t), { signal, headers: apiAuth({}) });
	} catch (e) {
		if (e.name === 'AbortError')
			throw e;
		throw new ApiError(0, 'The server cannot be reached.', e.message);
	}
	if (!res.ok)
		throw apiErrorFrom(res.status, await res.text());
	return URL.createObjectURL(await res.blob());
}

// POST /upload with XMLHttpRequest, for its upload progress events and abort().
// Returns {promise, abort}; the promise rejects with an ApiError (status -1 when cancelled).
export function apiUpload(file, onProgress) {
	const xhr = new XMLHttpRequest();
	const promise = new Promise((resolve, reject) => {
		xhr.open('POST', '/upload');
		xhr.setRequestHeader('Accept', 'application/json');
		const auth = apiAuth({}).Authorization;
		if (auth)
			xhr.setRequestHeader('Authorization', auth);
		xhr.upload.addEventListener('progress', (e) => {
			onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
		});
		xhr.addEventListener('load', () => {
			if (xhr.status !== 200) {
				reject(apiErrorFrom(xhr.status, xhr.responseText));
				return;
			}
			try {
				resolve(JSON.parse(xhr.responseText));
			} catch {
				reject(new ApiError(xhr.status, 'The server sent something that is not JSON.', xhr.responseText.slice(0, 200)));
			}
		});
		xhr.addEventListener('error', () =>
			reject(new ApiError(0, 'The upload failed.', 'The connection to the server was lost.')));
		xhr.addEventListener('abort', () => reject(new ApiError(-1, 'Upload cancelled.')));
		const form = new FormData();
		form.append('file', file, file.name);
		xhr.send(form);
	});
	return { promise, abort: () => xhr.abort() };
}

const apiTerminal = (s) => s && (s.status === 'completed' || s.status === 'failed');

// Follows a job over GET /events/{id}. onStatus gets every status record; the stream is
// closed by us once the job is over, since EventSource would otherwise reconnect forever.
// When the stream cannot be opened at all, one GET /status tells whether it is worth retrying.
// Returns a function that stops following.
export function apiFollow(id, onStatus, onTrouble) {
	let es = null;
	let stopped = false;
	let cancelled = false;
	let retry = null;

	const open = () => {
		es = new EventSource(`/events/${enc(id)}`);
		es.addEventListener('status', (e) => {
			let s;
			try {
				s = JSON.parse(e.data);
			} catch {
				return;
			}
			if (apiTerminal(s)) {
				stop();
			} else if (s.phase === 'done' || s.phase === 'failed') {
				// The job is over but the record was not final yet: read the stored one.
				stop();
				settle(0);
			}
			onStatus(s);
		});
		es.addEventListener('gone', () => {
			stop();
			onTrouble(new ApiError(404, 'The job is gone.', 'It was deleted on the server.'));
		});
		es.addEventListener('error', () => {
			if (stopped || es.readyState !== EventSource.CLOSED)
				return;	/* CONNECTING: the browser reconnects by itself */
			apiStatus(id).then((s) => {
				if (stopped)
					return;
				onStatus(s);
				if (!apiTerminal(s))
					retry = setTimeout(open, 1500);
			}, (err) => {
				if (!stopped)
					onTrouble(err);
			});
		});
	};
	const settle = (tries) => {
		apiStatus(id).then((s) => {
			if (cancelled)
				return;
			onStatus(s);
			if (!apiTerminal(s) && tries < 20)
				retry = setTimeout(() => settle(tries + 1), 250);
		}, (err) => {
			if (!cancelled)
				onTrouble(err);
		});
	};
	const stop = () => {
		stopped = true;
		clearTimeout(retry);
		if (es)
			es.close();
	};
	open();
	return () => {
		cancelled = true;
		stop();
	};
}
