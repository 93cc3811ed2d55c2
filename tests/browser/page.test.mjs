// The bundled page in a real Chromium, as a person would use it: upload, pick blur, start,
// watch, read the results. Prints "PASS name" / "FAIL name: why" lines (tests/run counts them).
//   BASE=http://127.0.0.1:PORT CLIP=clip.mp4 BAD=text.mp4 ARTIFACTS=dir node page.test.mjs
import { check, fail, failed, launch } from './harness.mjs';
import fs from 'node:fs';
import path from 'node:path';

const BASE = process.env.BASE;
const CLIP = process.env.CLIP;
const BAD = process.env.BAD;
const TRUNC = process.env.TRUNC;
const ARTIFACTS = process.env.ARTIFACTS || '.';
const CLIP_DURATION = Number(process.env.CLIP_DURATION || 'NaN');
const LONG = process.env.LONG;		/* a longer clip for the stream's checks */
const LONG_DURATION = Number(process.env.LONG_DURATION || 'NaN');
const RUN_TIMEOUT = 60000;

// Console errors and uncaught exceptions of a page; `allow` filters out the expected ones.
function watch(page, allow = () => false) {
	const errors = [];
	page.on('console', (m) => {
		if (m.type() === 'error' && !allow(m.text()))
			errors.push(`console: ${m.text()} (${m.location().url || ''})`);
	});
	page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
	return errors;
}

const num = (text) => {
	const m = /-?\d+(\.\d+)?/.exec(text || '');
	return m ? Number(m[0]) : NaN;
};

const browser = await launch();

try {
	const health = await (await fetch(`${BASE}/health`)).json();
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	const page = await ctx.newPage();
	const errors = watch(page);
	const requests = [];
	page.on('request', (r) => requests.push({ url: r.url(), at: Date.now() }));
	let jobId = null;

	await page.goto(BASE);
	await check('page loads with the server health and the filters', async () => {
		await page.waitForSelector('#health.ok', { timeout: 10000 });
		const opts = await page.$$eval('#filter option', (os) => os.map((o) => o.value));
		if (!opts.includes('blur'))
			return `no blur among the filters: ${opts.join(',')}`;
		const w = await page.inputValue('#workers');
		if (Number(w) !== health.workers)
			return `workers default is ${w}, /health says ${health.workers}`;
	});

	await check('upload shows progress and then the facts of the video', async () => {
		const uploadResp = page.waitForResponse((r) => r.url().endsWith('/upload'), { timeout: 30000 });
		await page.setInputFiles('#file', CLIP);
		const resp = await uploadResp;
		if (resp.status() !== 200)
			return `upload answered ${resp.status()}: ${await resp.text()}`;
		jobId = (await resp.json()).job_id;
		await page.waitForSelector('#setup:not([hidden])', { timeout: 10000 });
		const facts = await page.textContent('#source-facts');
		if (!facts.includes('320×240'))
			return `resolution missing from the facts: ${facts}`;
		if (!/4\.0\d s/.test(facts))
			return `duration missing from the facts: ${facts}`;
		if (!/30 fps/.test(facts) || !/aac/.test(facts))
			return `fps or audio missing from the facts: ${facts}`;
		if (!(await page.textContent('#source-name')).includes(path.basename(CLIP)))
			return 'file name not shown';
	});
	if (!jobId)
		throw new Error('no job: cannot go on');

	await check('the original plays as a still in the page', async () => {
		await page.waitForFunction(() => {
			const v = document.getElementById('source-video');
			return v && v.readyState >= 1;
		}, null, { timeout: 10000 });
	});

	await page.selectOption('#filter', 'blur');
	await check('blur has a sigma control with its default and range', async () => {
		const attrs = await page.$eval('#param-sigma', (i) => [i.value, i.min, i.max]);
		if (Number(attrs[0]) !== 2.6 || Number(attrs[1]) !== 0.1 || Number(attrs[2]) !== 50)
			return `sigma control is value/min/max ${attrs.join('/')}`;
		const label = await page.textContent('label[for="param-sigma"]');
		if (!label.includes('sigma'))
			return `no label for sigma: ${label}`;
	});

	// Whether the server has /preview decides what the page must show.
	const probe = await fetch(`${BASE}/preview/${jobId}?filter=none&t=0`);
	const havePreview = probe.status !== 404;
	await check(havePreview ? 'before/after preview stills are shown' : 'the page says there are no preview stills', async () => {
		if (havePreview) {
			await page.waitForFunction(() => ['preview-before', 'preview-after'].every((id) => {
				const img = document.getElementById(id);
				return img.complete && img.naturalWidth > 0;
			}) && !document.getElementById('preview').hidden, null, { timeout: 15000 });
		} else {
			await page.waitForSelector('#preview-note:not([hidden])', { timeout: 10000 });
		}
	});

	await page.fill('#param-sigma', '4');
	const liveBars = { running: 0, bars: 0 };
	let startAt = 0;
	await check('start: the run is followed live over EventSource, the timeline grows', async () => {
		startAt = Date.now();
		await page.click('#start');
		// Sample what a watcher would see while the job runs.
		const deadline = Date.now() + RUN_TIMEOUT;
		while (Date.now() < deadline) {
			const st = await page.evaluate(() => ({
				done: !document.getElementById('results').hidden,
				failed: !document.getElementById('job-error').hidden,
				running: document.querySelectorAll('#timeline .tl-bar.running').length,
				bars: document.querySelectorAll('#timeline .tl-bar').length,
			}));
			if (!st.done && st.running > 0 && liveBars.running === 0) {
				fs.mkdirSync(ARTIFACTS, { recursive: true });
				await page.locator('#run').screenshot({ path: path.join(ARTIFACTS, 'page-running.png') });
			}
			if (!st.done) {
				liveBars.running = Math.max(liveBars.running, st.running);
				liveBars.bars = Math.max(liveBars.bars, st.bars);
			}
			if (st.done || st.failed)
				break;
			await page.waitForTimeout(100);
		}
		const err = await page.$eval('#job-error', (e) => (e.hidden ? '' : e.textContent));
		if (err)
			return `the job failed: ${err}`;
		if (await page.$eval('#results', (e) => e.hidden))
			return `no results after ${RUN_TIMEOUT / 1000} s`;
		if (!requests.some((r) => r.url.includes(`/events/${jobId}`)))
			return 'no request to /events/';
		const polls = requests.filter((r) => r.at >= startAt && r.url.includes(`/status/${jobId}`));
		if (polls.length > 2)
			return `the page polled /status ${polls.length} times instead of following the stream`;
		if (liveBars.running === 0 || liveBars.bars === 0)
			return `no running segment was drawn before the end (max ${liveBars.bars} bars)`;
	});

	await check('speedup and both times are shown as numbers > 0', async () => {
		const [sp, seq, par] = await Promise.all(['#res-speedup', '#res-seq-time', '#res-par-time']
			.map((s) => page.textContent(s)));
		if (!(num(sp) > 0) || !(num(seq) > 0) || !(num(par) > 0))
			return `speedup "${sp}", sequential "${seq}", parallel "${par}"`;
		const eff = await page.textContent('#res-efficiency');
		if (!(num(eff) > 0))
			return `efficiency "${eff}"`;
		const shown = num(sp);
		const expect = num(seq) / num(par);
		if (Math.abs(shown - expect) > 0.15 * expect)
			return `speedup ${shown} does not match ${seq} / ${par}`;
	});

	await check('outputs identical is answered', async () => {
		const t = (await page.textContent('#res-identical')).trim();
		if (t !== 'Yes' && t !== 'No')
			return `identical shows "${t}"`;
	});

	await check(`the timeline has one lane per worker (${health.workers}) and one bar per segment`, async () => {
		const tl = await page.evaluate(() => ({
			par: document.querySelectorAll('#timeline .tl-lane[data-phase="parallel"]').length,
			seq: document.querySelectorAll('#timeline .tl-lane[data-phase="sequential"]').length,
			parBars: document.querySelectorAll('#timeline .tl-group[data-phase="parallel"] .tl-bar').length,
			seqBars: document.querySelectorAll('#timeline .tl-group[data-phase="sequential"] .tl-bar').length,
			running: document.querySelectorAll('#timeline .tl-bar.running').length,
		}));
		const status = await (await fetch(`${BASE}/status/${jobId}`)).json();
		const segs = status.segments_total;
		if (tl.par !== health.workers)
			return `${tl.par} parallel lanes`;
		if (tl.seq !== 1)
			return `${tl.seq} sequential lanes`;
		if (!(segs >= 2) || tl.parBars < segs || tl.seqBars < segs)
			return `bars: ${tl.seqBars} sequential, ${tl.parBars} parallel for ${segs} segments`;
		if (tl.running !== 0)
			return `${tl.running} bars still drawn as running`;
	});

	await check('the processed video loads and lasts as long as the input', async () => {
		const d = await page.waitForFunction(() => {
			const v = document.getElementById('res-processed-video');
			const o = document.getElementById('res-original-video');
			return v && o && v.readyState >= 1 && o.readyState >= 1 && [v.duration, o.duration];
		}, null, { timeout: 15000 }).then((hd) => hd.jsonValue());
		const [proc, orig] = d;
		if (Math.abs(proc - orig) > 0.1)
			return `processed ${proc} s, original ${orig} s`;
		if (Number.isFinite(CLIP_DURATION) && Math.abs(proc - CLIP_DURATION) > 0.1)
			return `processed ${proc} s, the clip ${CLIP_DURATION} s`;
	});

	await check('the processed video can be seeked', async () => {
		const t = await page.evaluate(() => new Promise((resolve) => {
			const v = document.getElementById('res-processed-video');
			v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
			v.currentTime = 2;
			setTimeout(() => resolve(-1), 5000);
		}));
		if (Math.abs(t - 2) > 0.1)
			return `currentTime after seeking to 2 s is ${t}`;
	});

	await check('the download link returns an MP4', async () => {
		const href = await page.getAttribute('#download', 'href');
		const r = await page.evaluate(async (u) => {
			const res = await fetch(u);
			const b = new Uint8Array(await res.arrayBuffer());
			return { status: res.status, len: b.length, tag: String.fromCharCode(...b.slice(4, 8)) };
		}, href);
		if (r.status !== 200 || r.tag !== 'ftyp' || r.len < 1000)
			return `GET ${href}: ${r.status}, ${r.len} bytes, bytes 4-8 "${r.tag}"`;
	});

	await check('the job appears in the list of jobs as completed', async () => {
		await page.waitForFunction((id) => {
			const li = document.querySelector(`#jobs-list li[data-job-id="${id}"]`);
			return li && li.textContent.includes('completed');
		}, jobId, { timeout: 5000 });
	});

	fs.mkdirSync(ARTIFACTS, { recursive: true });
	// both videos showing a decoded frame, for a screenshot a person can judge
	await page.waitForFunction(() => ['res-original-video', 'res-processed-video']
		.every((id) => document.getElementById(id)?.readyState >= 2), null, { timeout: 3000 }).catch(() => {});
	await page.screenshot({ path: path.join(ARTIFACTS, 'page-result.png'), fullPage: true });

	await check('no console errors or page errors', () => (errors.length ? errors.join(' | ') : undefined));

	// A file that is not a video, with a video's name: the server's reason must be on screen.
	const bad = await ctx.newPage();
	const badErrors = watch(bad, (t) => /Failed to load resource: the server responded with a status of 4\d\d/.test(t));
	await bad.goto(BASE);
	await bad.waitForSelector('#health.ok', { timeout: 10000 });
	await check('a text file named .mp4 shows the server\'s rejection reason', async () => {
		const respP = bad.waitForResponse((r) => r.url().endsWith('/upload'), { timeout: 15000 });
		await bad.setInputFiles('#file', BAD);
		const resp = await respP;
		if (resp.status() < 400)
			return `the server took it: ${resp.status()}`;
		const body = await resp.json();
		await bad.waitForSelector('#upload-error:not([hidden])', { timeout: 5000 });
		const shown = await bad.textContent('#upload-error');
		if (!body.detail || !shown.includes(body.detail))
			return `shown "${shown}", server detail "${body.detail}"`;
		if (!(await bad.$eval('#setup', (e) => e.hidden)))
			return 'the filter step opened for a rejected file';
		if (badErrors.length)
			return badErrors.join(' | ');
	});
	await check('a file that is not a video by name is refused before upload', async () => {
		let uploaded = false;
		bad.on('request', (r) => { if (r.url().endsWith('/upload')) uploaded = true; });
		await bad.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
		await bad.waitForFunction(() => document.getElementById('upload-error').textContent.includes('notes.txt'), null, { timeout: 5000 });
		if (uploaded)
			return 'it was sent to the server';
	});
	await check(`a video over max_upload_mb (${health.max_upload_mb} MB) is refused before upload`, async () => {
		let uploaded = false;
		bad.on('request', (r) => { if (r.url().endsWith('/upload')) uploaded = true; });
		const size = Math.round((health.max_upload_mb + 0.5) * 1024 * 1024);
		await bad.setInputFiles('#file', { name: 'big.mp4', mimeType: 'video/mp4', buffer: Buffer.alloc(size) });
		await bad.waitForFunction(() => document.getElementById('upload-error').textContent.includes('big.mp4'), null, { timeout: 5000 });
		const shown = await bad.textContent('#upload-error');
		if (!shown.includes(`${health.max_upload_mb} MB`))
			return `the message does not name the limit: ${shown}`;
		if (uploaded)
			return 'it was sent to the server';
	});
	await check('a file dropped on the page is checked like a picked one', async () => {
		await bad.evaluate(() => {
			const dt = new DataTransfer();
			dt.items.add(new File(['hello'], 'dropped.txt', { type: 'text/plain' }));
			for (const type of ['dragenter', 'dragover', 'drop'])
				document.body.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
		});
		await bad.waitForFunction(() => document.getElementById('upload-error').textContent.includes('dropped.txt'), null, { timeout: 5000 });
		if (!(await bad.$eval('#drag-veil', (e) => e.hidden)))
			return 'the drop veil stayed on screen';
	});
	await check('a slow upload shows its progress and can be cancelled', async () => {
		const cdp = await bad.context().newCDPSession(bad);
		await cdp.send('Network.enable');
		await cdp.send('Network.emulateNetworkConditions', {
			offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 64 * 1024,
		});
		const before = (await (await fetch(`${BASE}/jobs`)).json()).jobs.length;
		await bad.setInputFiles('#file', CLIP);
		await bad.waitForSelector('#upload-progress:not([hidden])', { timeout: 5000 });
		await bad.waitForFunction(() => Number(document.getElementById('upload-bar').getAttribute('aria-valuenow')) > 0, null, { timeout: 10000 });
		const pct = await bad.textContent('#upload-pct');
		await bad.click('#upload-cancel');
		await bad.waitForSelector('#upload-progress', { state: 'hidden', timeout: 5000 });
		await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
		if (!/\d+% of/.test(pct))
			return `progress text "${pct}"`;
		if (!(await bad.$eval('#setup', (e) => e.hidden)))
			return 'the filter step opened after a cancelled upload';
		if (!(await bad.$eval('#upload-error', (e) => e.hidden)))
			return `an error is shown after cancelling: ${await bad.textContent('#upload-error')}`;
		await bad.waitForTimeout(300);
		const after = (await (await fetch(`${BASE}/jobs`)).json()).jobs.length;
		if (after !== before)
			return `the server has ${after} jobs after the cancelled upload, ${before} before`;
		if (badErrors.length)
			return badErrors.join(' | ');
	});
	await bad.close();

	// A recording cut off mid-way (its own page: the upload opens the filter step)
	const tr = await ctx.newPage();
	const trErrors = watch(tr);
	await tr.goto(BASE);
	await tr.waitForSelector('#health.ok', { timeout: 10000 });
	await check('a truncated video is taken, and the page says what it holds', async () => {
		if (!TRUNC)
			return 'no TRUNC clip given';
		const respP = tr.waitForResponse((r) => r.url().endsWith('/upload'), { timeout: 15000 });
		await tr.setInputFiles('#file', TRUNC);
		const resp = await respP;
		if (resp.status() !== 200)
			return `the server refused it: ${resp.status()}`;
		const a = (await resp.json()).analytics;
		await tr.waitForSelector('#source-truncated', { timeout: 5000 });
		const shown = await tr.textContent('#source-truncated');
		await tr.screenshot({ path: path.join(ARTIFACTS, 'page-truncated.png') });
		if (!/truncated/i.test(shown) || !shown.includes(`${a.declared_duration.toFixed(1)}`) || !(a.duration < a.declared_duration))
			return `shown "${shown}", analytics duration ${a.duration} of ${a.declared_duration}`;
		if (trErrors.length)
			return trErrors.join(' | ');
	});
	await tr.close();

	// A phone: the reopened result (#job=ID) must fit the width.
	const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
	const pp = await phone.newPage();
	const phoneErrors = watch(pp);
	await pp.goto(`${BASE}/#job=${jobId}`);
	await check('at phone width (390x844) the result view has no horizontal overflow', async () => {
		await pp.waitForSelector('#results:not([hidden])', { timeout: 10000 });
		await pp.waitForSelector('#timeline svg', { timeout: 5000 });
		const o = await pp.evaluate(() => {
			const vw = document.documentElement.clientWidth;
			const wide = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > vw + 1)
				.map((e) => e.id || e.className || e.tagName).slice(0, 5);
			return { sw: document.documentElement.scrollWidth, vw, wide };
		});
		await pp.screenshot({ path: path.join(ARTIFACTS, 'page-phone.png'), fullPage: true });
		if (o.sw > o.vw || o.wide.length)
			return `scrollWidth ${o.sw} > ${o.vw}: ${o.wide.join(', ')}`;
		if (phoneErrors.length)
			return phoneErrors.join(' | ');
	});
	await phone.close();

	// Keyboard: the controls are reachable with Tab and the file input shows where focus is.
	const kb = await ctx.newPage();
	const kbErrors = watch(kb);
	await kb.goto(`${BASE}/#job=${jobId}`);
	await check('keyboard: Tab reaches the file picker, the filter and the start button', async () => {
		await kb.waitForSelector('#results:not([hidden])', { timeout: 10000 });
		const seen = new Set();
		for (let i = 0; i < 40; i++) {
			await kb.keyboard.press('Tab');
			seen.add(await kb.evaluate(() => document.activeElement.id || document.activeElement.tagName));
		}
		const miss = ['file', 'filter', 'workers', 'baseline', 'start'].filter((id) => !seen.has(id));
		if (miss.length)
			return `not reached by Tab: ${miss.join(', ')}`;
	});
	// Delete asks once more, then removes the job, its files and its view.
	await check('a job can be deleted from the list', async () => {
		const li = `#jobs-list li[data-job-id="${jobId}"]`;
		await kb.click(`${li} button:has-text("Delete")`);
		await kb.waitForSelector(`${li} button:has-text("Really delete?")`, { timeout: 2000 });
		await kb.click(`${li} button:has-text("Really delete?")`);
		await kb.waitForSelector(li, { state: 'detached', timeout: 5000 });
		const st = await fetch(`${BASE}/status/${jobId}`);
		if (st.status !== 404)
			return `GET /status of the deleted job answers ${st.status}`;
		if (!(await kb.$eval('#results', (e) => e.hidden)))
			return 'the results of the deleted job are still shown';
		if (kbErrors.length)
			return kbErrors.join(' | ');
	});
	await kb.close();

	// The processed video plays while the job renders: a longer clip on one worker without the
	// baseline, so its pieces finish one after the other.
	if (LONG) {
		const sp = await ctx.newPage();
		const spErrors = watch(sp);
		await sp.goto(BASE);
		await sp.waitForSelector('#health.ok', { timeout: 10000 });
		const up = sp.waitForResponse((r) => r.url().endsWith('/upload'), { timeout: 30000 });
		await sp.setInputFiles('#file', LONG);
		const longId = (await (await up).json()).job_id;
		await sp.waitForSelector('#setup:not([hidden])', { timeout: 10000 });
		await sp.selectOption('#filter', 'grayscale');
		await sp.fill('#workers', '1');
		await sp.uncheck('#baseline');
		await sp.click('#start');
		await check('stream: the processed video plays (currentTime advances) before the job completes', async () => {
			await sp.waitForFunction(() => {
				const v = document.getElementById('live-video');
				return v && v.currentTime > 0.2;
			}, null, { timeout: RUN_TIMEOUT });
			// asked after the video moved: still rendering means it moved before completion
			const st = await (await fetch(`${BASE}/status/${longId}`)).json();
			if (st.status !== 'processing')
				return `the job was ${st.status} when the video first moved`;
			if (!(st.playable_seconds > 0) || st.playable_seconds >= LONG_DURATION - 0.05)
				return `playable_seconds ${st.playable_seconds} while processing`;
			const head = await sp.textContent('#health-text');
			if (!/rendering/.test(head))
				return `the header says "${head}" while the job renders`;
			const fill = await sp.$eval('#live-rendered', (e) => parseFloat(e.style.width));
			if (!(fill > 0 && fill < 100))
				return `the rendered part is marked as ${fill}% of the timeline`;
		});
		await check('stream: after completion it plays to the end', async () => {
			await sp.waitForSelector('#results:not([hidden])', { timeout: RUN_TIMEOUT });
			await sp.waitForFunction((d) => {
				const v = document.getElementById('live-video');
				return Math.abs(v.duration - d) < 0.2;
			}, LONG_DURATION, { timeout: 20000 });
			await sp.evaluate(() => {
				const v = document.getElementById('live-video');
				v.playbackRate = 4;
				return v.play();
			});
			await sp.waitForFunction(() => document.getElementById('live-video').ended, null, { timeout: RUN_TIMEOUT });
			const t = await sp.$eval('#live-video', (v) => v.currentTime);
			if (Math.abs(t - LONG_DURATION) > 0.2)
				return `ended at ${t} s of ${LONG_DURATION} s`;
			if (spErrors.length)
				return spErrors.join(' | ');
		});
		await sp.close();
	}
	await ctx.close();
} catch (e) {
	fail('browser test', e.stack || e.message || e);
} finally {
	await browser.close();
}
process.exit(failed() ? 1 : 0);
