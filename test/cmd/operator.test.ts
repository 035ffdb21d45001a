// Proves `center operator add` (C§24): an operator joins a running deployment with its own store CA,
// relay and kiosk; its relay starts from the deployment file and the running centre, never
// restarted, serves its kiosk, recording the issuance under the new operator. What is refused
// (an id already there, a bad flag, no centre CA key) changes nothing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../cmd/config.ts';
import { openKiosk, runScriptedSessions } from '../../cmd/kiosk.ts';
import { startRelay } from '../../cmd/relay.ts';
import { listHandlingRecords } from '../../drivers/store/center-store.ts';
import { withDatabase } from '../../drivers/store/database.ts';
import { run } from './cli-fixture.ts';
import { runningService, type RunningService } from './deployment-fixture.ts';

describe('center operator', () => {
  let service: RunningService;
  before(async () => {
    service = await runningService('cvs-operator-');
  });
  after(async () => service?.close());

  const add = (...flags: string[]) => run('center', 'operator', 'add', '--dir', service.dir, ...flags);
  const joining = ['--operator', 'OP03', '--name', '株式会社テスト商店', '--listen', '127.0.0.1:0', '--store', 'S0301', '--store-name', 'テスト商店大手町店', '--kiosks', 'K0301'];

  it('refuses what the deployment has already, bad flags and half a store, with exit 2, changing nothing', async () => {
    const configBefore = fs.readFileSync(path.join(service.dir, 'cvs-issue.json'), 'utf8');
    const filesBefore = fs.readdirSync(service.dir).sort();
    for (const flags of [
      ['--operator', 'OP01', '--name', 'x', '--listen', '127.0.0.1:0'],
      ['--operator', 'op-3', '--name', 'x', '--listen', '127.0.0.1:0'],
      ['--operator', 'OP03', '--name', ' ', '--listen', '127.0.0.1:0'],
      ['--operator', 'OP03', '--name', 'x', '--listen', 'nowhere'],
      ['--operator', 'OP03', '--name', 'x', '--listen', '127.0.0.1:0', '--store', 'S0301'],
      ['--operator', 'OP03', '--name', 'x', '--listen', '127.0.0.1:0', '--store', 'S0001', '--store-name', 'x', '--kiosks', 'K0301'],
      ['--operator', 'OP03', '--name', 'x', '--listen', '127.0.0.1:0', '--store', 'S0301', '--store-name', 'x', '--kiosks', 'K0001'],
      ['--operator', 'OP03', '--name', 'x', '--listen', '127.0.0.1:0', '--store', 'S0301', '--store-name', 'x', '--kiosks', 'K0301,K0301'],
    ]) {
      const result = await add(...flags);
      assert.equal(result.code, 2, `${flags.join(' ')}: ${result.stderr}`);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    }
    // Without the centre CA's key (kept elsewhere), nothing can be issued: exit 2, nothing written.
    const caKey = path.join(service.dir, 'pki', 'center', 'ca.key.pem');
    fs.renameSync(caKey, `${caKey}.away`);
    try {
      const result = await add(...joining);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /centre CA's private key is not in this deployment/);
    } finally {
      fs.renameSync(`${caKey}.away`, caKey);
    }
    assert.equal(fs.readFileSync(path.join(service.dir, 'cvs-issue.json'), 'utf8'), configBefore);
    assert.deepEqual(fs.readdirSync(service.dir).sort(), filesBefore);
    assert.equal(fs.existsSync(path.join(service.dir, 'pki', 'operators', 'OP03')), false);
  });

  it('joins over what a join killed part way left behind (files the deployment does not name)', async () => {
    const leftovers = ['pki/operators/OP04/relay-client.key.pem', 'relay-OP04.db', 'kiosks/K0401.db', 'pki/maintenance/K0401.txt'];
    for (const file of leftovers) {
      fs.mkdirSync(path.dirname(path.join(service.dir, file)), { recursive: true });
      fs.writeFileSync(path.join(service.dir, file), 'half written');
    }
    const added = await add('--operator', 'OP04', '--name', '株式会社再試行', '--listen', '127.0.0.1:0', '--store', 'S0401', '--store-name', '再試行店', '--kiosks', 'K0401');
    assert.equal(added.code, 0, added.stderr);
    for (const file of leftovers) assert.notEqual(fs.readFileSync(path.join(service.dir, file)).toString(), 'half written', file);
  });

  it('lets an operator join the running deployment; its relay and kiosk issue through the centre as it runs', async () => {
    const added = await add(...joining, '--json');
    assert.equal(added.code, 0, added.stderr);
    assert.deepEqual(JSON.parse(added.stdout), { operatorId: 'OP03', relay: { listen: '127.0.0.1:0', databaseFile: 'relay-OP03.db' }, kiosks: ['K0301'] });
    const listed = JSON.parse((await run('center', 'operator', 'list', '--dir', service.dir, '--json')).stdout) as { operatorId: string; kiosks: string[] }[];
    assert.deepEqual(listed.find((entry) => entry.operatorId === 'OP03')?.kiosks, ['K0301']);
    for (const file of ['relay-OP03.db', 'kiosks/K0301.db', 'pki/operators/OP03/store-ca.key.pem', 'pki/maintenance/K0301.txt']) {
      assert.equal(fs.statSync(path.join(service.dir, file)).mode & 0o077, 0, `${file} is owner-only`);
    }

    const loaded = loadConfig(service.dir);
    const relay = await startRelay(loaded, { operatorId: 'OP03', clock: service.clock, centerUrl: service.center.server.url });
    const kiosk = openKiosk(loaded, { kioskId: 'K0301', relayUrl: relay.server.url, clock: service.clock });
    let requestId = '';
    try {
      const [report] = await runScriptedSessions(kiosk, loaded, [{ card: 'card-r001', pins: ['1234'], certificateType: 'juminhyo', copies: 1, cash: [500] }]);
      assert.equal(report!.result.outcome, 'issued', JSON.stringify(report!.result));
      requestId = (report!.result as { requestId: string }).requestId;
      assert.equal((await kiosk.flushOutbox()).pending, 0);
    } finally {
      await kiosk.close();
      await relay.close();
    }
    const recorded = withDatabase(path.join(service.dir, 'center.db'), (db) => listHandlingRecords(db).filter((record) => record.issuanceId === requestId));
    assert.deepEqual(recorded.map((record) => [record.operatorId, record.storeId, record.kioskId, record.copies]), [['OP03', 'S0301', 'K0301', 1]]);
    const joined = withDatabase(path.join(service.dir, 'center.db'), (db) =>
      db.all<{ entry: Uint8Array }>('SELECT entry FROM audit_entries').map((row) => JSON.parse(new TextDecoder().decode(row.entry)) as { kind: string; data: { operatorId?: string } }).filter((entry) => entry.kind === 'operator.joined'),
    );
    assert.deepEqual(joined.map((entry) => entry.data).filter((data) => data.operatorId === 'OP03'), [{ operatorId: 'OP03', count: 1 }]);
    // Joined once: the same again is refused.
    assert.equal((await add(...joining)).code, 2);
  });
});
