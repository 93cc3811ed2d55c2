// The bundled page against a server started with --token-file: it asks for the token once,
// keeps it for the tab, and everything a person uses works with it - the upload, the event
// stream, the videos and the download link (those three through the login cookie).
//   BASE=http://127.0.0.1:PORT TOKEN=... CLIP=clip.mp4 node token.test.mjs
import { check, fail, failed, launch } from './harness.mjs';

const BASE = process.env.BASE;
const TOKEN = process.env.TOKEN;
const CLIP = process.env.CLIP;

const browser = await launch();

try {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	const page = await ctx.newPage();
	let jobId = null;

	await page.goto(BASE);
	await check('the page asks for the token', async () => {
		await page.waitForSelector('#login[open]', { timeout: 10000 });
	});
	await check('a wrong token is refused on screen', async () => {
		await page.fill('#login-token', `${TOKEN}x`);
		await page.click('#login-form button[type="submit"]');
		await page.waitForSelector('#login-error:not([hidden])', { timeout: 5000 });
		if (!(await page.$('#login[open]')))
			return 'the prompt closed on a wrong token';
	});
	await check('the right token opens the page: filters and jobs load', async () => {
		await page.fill('#login-token', TOKEN);
		await page.click('#login-form button[type="submit"]');
		await page.waitForSelector('#login', { state: 'hidden', timeout: 5000 });
		await page.waitForFunction(() => document.querySelectorAll('#filter option').length > 1, null, { timeout: 10000 });
	});
	await check('the token is kept for the tab only, not in a cookie the page can read', async () => {
		const seen = await page.evaluate(() => ({ kept: sessionStorage.getItem('vr-token'), cookie: document.cookie, local: localStorage.length }));
		if (seen.kept !== TOKEN)
			return `sessionStorage holds ${seen.kept}`;
		if (seen.cookie.includes('vr_session') || seen.local !== 0)
			return `visible to scripts: cookie "${seen.cookie}", ${seen.local} localStorage items`;
	});

	await check('upload with the token', async () => {
		const resp = page.waitForResponse((r) => r.url().endsWith('/upload'), { timeout: 30000 });
		await page.setInputFiles('#file', CLIP);
		const r = await resp;
		if (r.status() !== 200)
			return `upload answered ${r.status()}: ${await r.text()}`;
		jobId = (await r.json()).job_id;
	});
	if (!jobId)
		throw new Error('no job: cannot go on');
	await check('the original plays (the video link carries the login cookie)', async () => {
		await page.waitForFunction(() => {
			const v = document.getElementById('source-video');
			return v && v.readyState >= 1;
		}, null, { timeout: 10000 });
	});

	await page.selectOption('#filter', 'grayscale');
	await check('a run is followed to its results over the event stream', async () => {
		await page.click('#start');
		await page.waitForSelector('#results:not([hidden]), #job-error:not([hidden])', { timeout: 60000 });
		const err = await page.$eval('#job-error', (e) => (e.hidden ? '' : e.textContent));
		if (err)
			return `the job failed: ${err}`;
	});
	await check('the processed video loads', async () => {
		await page.waitForFunction(() => {
			const v = document.getElementById('res-processed-video');
			return v && v.readyState >= 1;
		}, null, { timeout: 15000 });
	});
	await check('the download link returns the MP4', async () => {
		const href = await page.getAttribute('#download', 'href');
		const r = await page.evaluate(async (u) => {
			const res = await fetch(u);
			const b = new Uint8Array(await res.arrayBuffer());
			return { status: res.status, tag: String.fromCharCode(...b.slice(4, 8)) };
		}, href);
		if (r.status !== 200 || r.tag !== 'ftyp')
			return `GET ${href}: ${r.status}, bytes 4-8 "${r.tag}"`;
	});

	await check('a reload does not ask again', async () => {
		await page.reload();
		await page.waitForFunction(() => document.querySelectorAll('#filter option').length > 1, null, { timeout: 10000 });
		if (await page.$('#login[open]'))
			return 'the prompt is back after a reload';
	});
	await check('another tab gets the prompt; without the token /jobs is 401', async () => {
		const other = await (await browser.newContext()).newPage();
		await other.goto(BASE);
		await other.waitForSelector('#login[open]', { timeout: 10000 });
		const res = await fetch(`${BASE}/jobs`);
		if (res.status !== 401)
			return `GET /jobs without the token: ${res.status}`;
		await other.context().close();
	});
	await ctx.close();
} catch (e) {
	fail('token browser test', e.stack || e.message || e);
} finally {
	await browser.close();
}
process.exit(failed() ? 1 : 0);
