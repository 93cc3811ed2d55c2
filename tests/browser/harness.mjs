// What the browser tests share: PASS/FAIL lines (tests/run counts them) and Debian's chromium.
import { chromium } from 'playwright-core';

let failures = 0;
export const failed = () => failures;
export const pass = (name) => console.log(`PASS ${name}`);
export const fail = (name, why) => {
	failures++;
	console.log(`FAIL ${name}: ${String(why).replace(/\s+/g, ' ').slice(0, 400)}`);
};
// check(name, fn): fn throws or returns a string (the reason) to fail
export async function check(name, fn) {
	try {
		const why = await fn();
		if (typeof why === 'string')
			fail(name, why);
		else
			pass(name);
	} catch (e) {
		fail(name, e.message || e);
	}
}

export const launch = () => chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	headless: true,
	args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
		'--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
