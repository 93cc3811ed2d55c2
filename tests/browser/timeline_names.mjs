// The page's timeline drawn from a real /status record of a job with a remote worker: the
// remote lane is labelled with its host, the local one W<slot>. Usage: node timeline_names.mjs STATUS.json
import { readFileSync } from 'node:fs';
import { timelineSvg } from '../../master/web/timeline.js';

const status = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { markup } = timelineSvg(status, Date.now() / 1000, 800);
const labels = [...markup.matchAll(/class="tl-lane-label"[^>]*>([^<]*)</g)].map((m) => m[1]);
const remote = status.timeline.find((e) => e.remote);
const want = `${remote.host.replace(/\/\d+$/, '')} W${remote.worker}`;
if (!labels.includes(want) || !labels.includes('W0')) {
	console.error(`lane labels ${JSON.stringify(labels)} lack "${want}" or "W0"`);
	process.exit(1);
}
if (!markup.includes(`(${remote.host}, remote)`)) {
	console.error('no bar tooltip names the remote host');
	process.exit(1);
}
