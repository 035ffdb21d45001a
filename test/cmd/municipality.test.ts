// Proves `center municipality` (C§22, C§23): a municipality joins with its code (check digit
// checked), name and offers; `list --json` gives each one's code, name, participation and types;
// suspend and resume change only whether it takes part; every change is in the centre's audit log,
// and what is refused changes nothing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { withDatabase } from '../../drivers/store/database.ts';
import { run } from './cli-fixture.ts';
import { freshDeployment } from './deployment-fixture.ts';

describe('center municipality', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-municipality-'));
    freshDeployment(dir, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const list = async () => JSON.parse((await run('center', 'municipality', 'list', '--dir', dir, '--json')).stdout) as { municipalities: { code: string; name: string; mayorTitle: string; participating: boolean; types: { type: string; unitFeeYen: number; hours?: unknown }[] }[] };
  const auditKinds = () => withDatabase(path.join(dir, 'center.db'), (db) => db.all<{ entry: Uint8Array }>('SELECT entry FROM audit_entries').map((row) => (JSON.parse(new TextDecoder().decode(row.entry)) as { kind: string }).kind));

  it('lets a municipality join with its offers, hours from a file, and lists it', async () => {
    const offersFile = path.join(dir, 'offers.json');
    fs.writeFileSync(offersFile, JSON.stringify([{ type: 'koseki-zenbu', unitFeeYen: 450, hours: { start: '09:00', end: '17:00', weekdaysOnly: true, closedOnHolidays: true } }]));
    const before = (await list()).municipalities.length;
    const added = await run('center', 'municipality', 'add', '--dir', dir, '--code', '062014', '--name', '山形県山形市', '--offer', 'juminhyo:300', '--offer', 'inkan:300', '--offers-file', offersFile);
    assert.equal(added.code, 0, added.stderr);
    const { municipalities } = await list();
    assert.equal(municipalities.length, before + 1);
    const yamagata = municipalities.find((entry) => entry.code === '062014')!;
    assert.deepEqual([yamagata.name, yamagata.mayorTitle, yamagata.participating], ['山形県山形市', '山形市長', true]);
    assert.deepEqual(yamagata.types.map((offer) => [offer.type, offer.unitFeeYen, offer.hours !== undefined]), [['juminhyo', 300, false], ['inkan', 300, false], ['koseki-zenbu', 450, true]]);
    assert.ok(auditKinds().includes('municipality.joined'));
  });

  it('refuses a wrong check digit, a code that joined already, an unknown type and no offer, with exit 2, changing nothing', async () => {
    const before = JSON.stringify(await list());
    for (const argv of [
      ['--code', '041008', '--name', '仙台', '--offer', 'juminhyo:300'],
      ['--code', '062014', '--name', '山形', '--offer', 'juminhyo:300'],
      ['--code', '172014', '--name', '金沢', '--offer', 'passport:300'],
      ['--code', '172014', '--name', '金沢'],
      ['--code', '172014', '--name', '金沢', '--offer', 'juminhyo:300', '--offer', 'juminhyo:200'],
    ]) {
      const refused = await run('center', 'municipality', 'add', '--dir', dir, ...argv);
      assert.equal(refused.code, 2, argv.join(' '));
      assert.match(refused.stderr, /^cvs-issue: .+\n$/);
    }
    assert.equal(JSON.stringify(await list()), before);
  });

  it('updates a municipality: the offers given replace its offers, the rest stays; nothing to change is exit 2', async () => {
    const updated = await run('center', 'municipality', 'update', '--dir', dir, '--code', '062014', '--offer', 'juminhyo:250', '--max-copies', '5');
    assert.equal(updated.code, 0, updated.stderr);
    const yamagata = (await list()).municipalities.find((entry) => entry.code === '062014')!;
    assert.deepEqual(yamagata.types.map((offer) => [offer.type, offer.unitFeeYen]), [['juminhyo', 250]]);
    assert.equal(yamagata.name, '山形県山形市');
    assert.ok(auditKinds().includes('municipality.updated'));
    assert.equal((await run('center', 'municipality', 'update', '--dir', dir, '--code', '062014')).code, 2, 'nothing to change');
    assert.equal((await run('center', 'municipality', 'update', '--dir', dir, '--code', '062014', '--max-copies', '11')).code, 2);
    assert.equal((await run('center', 'municipality', 'update', '--dir', dir, '--code', '999999', '--name', 'x')).code, 2);
  });

  it('suspends and resumes a municipality, each once in the log, and refuses one that does not exist', async () => {
    assert.equal((await run('center', 'municipality', 'suspend', '--dir', dir, '--code', '131016')).code, 0);
    assert.equal((await list()).municipalities.find((entry) => entry.code === '131016')!.participating, false);
    assert.equal((await run('center', 'municipality', 'suspend', '--dir', dir, '--code', '131016')).code, 0, 'suspending again is no change');
    assert.equal((await run('center', 'municipality', 'resume', '--dir', dir, '--code', '131016')).code, 0);
    assert.equal((await list()).municipalities.find((entry) => entry.code === '131016')!.participating, true);
    assert.deepEqual(auditKinds().filter((kind) => kind === 'municipality.suspended' || kind === 'municipality.resumed'), ['municipality.suspended', 'municipality.resumed']);
    assert.equal((await run('center', 'municipality', 'resume', '--dir', dir, '--code', '999999')).code, 2);
  });
});
