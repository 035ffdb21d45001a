// Proves group commit in the compiled binary holds through a kill -9: a kiosk's fault reports pour
// into `relay serve` sixteen at a time, the relay is killed mid-stream with SIGKILL, and after a
// restart every report it had acknowledged is in relay.db, the relay starts again over its log (no
// uncovered tail), and `audit-log verify --role relay` passes. What was not acknowledged may be
// there or not; the kiosk would send it again.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { clientFor, loadConfig, type LoadedConfig } from '../../cmd/config.ts';
import { nextBusinessMorning } from '../../cmd/demo.ts';
import { formatJstIso } from '../../core/jst.ts';
import { FAULT_PATH } from '../../core/messages.ts';
import { openDatabase } from '../../drivers/store/database.ts';
import { freshDeployment } from '../cmd/deployment-fixture.ts';
import { BARE_ENVIRONMENT, binaryWorkspace, type BinaryWorkspace } from './binary-fixture.ts';

const REPORTS = 600;
const IN_FLIGHT = 16;
const KILL_AFTER_ACKS = 150;

describe('relay serve killed with SIGKILL under load (binary)', () => {
  let workspace: BinaryWorkspace;
  let dir: string;
  let loaded: LoadedConfig;
  const environment = { ...BARE_ENVIRONMENT, CVS_ISSUE_TIME: formatJstIso(nextBusinessMorning(Date.now())) };
  // The centre is not running: fault reports are the relay's own (docs/alerts.md).
  const serveArgs = () => ['relay', 'serve', '--dir', dir, '--listen', '127.0.0.1:0', '--center-url', 'https://127.0.0.1:9'];

  before(() => {
    workspace = binaryWorkspace('cvs-e2e-crash-');
    dir = path.join(workspace.work, 'site');
    freshDeployment(dir, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
    loaded = loadConfig(dir);
  });
  after(() => workspace.close());

  it('keeps every report it acknowledged, starts again, and its audit log verifies', async () => {
    const { child, url } = await workspace.serve(environment, serveArgs());
    const kiosk = loaded.config.kiosks[0]!;
    const client = clientFor(loaded, kiosk.tls, url, 5_000);
    const acknowledged: string[] = [];
    let next = 0;
    let killed = false;
    const report = async () => {
      while (next < REPORTS) {
        const faultId = randomBytes(16).toString('hex');
        next += 1;
        try {
          const answer = await client.postJson<{ faultId?: string }>(FAULT_PATH, { faultId, kioskId: kiosk.kioskId, device: 'printer', code: 'printer.jam', requestId: null, occurredAt: new Date().toISOString() });
          if (answer.status === 200) acknowledged.push(faultId);
        } catch {
          // no answer: the relay is gone
        }
        if (!killed && acknowledged.length >= KILL_AFTER_ACKS) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, report));
    await client.close();
    assert.ok(killed, 'the relay was killed in the middle of the stream');
    assert.ok(acknowledged.length >= KILL_AFTER_ACKS && acknowledged.length < REPORTS, `${acknowledged.length} acknowledged`);

    // It starts again over what the kill left (an uncovered tail would stop it with exit 3).
    const again = await workspace.serve(environment, serveArgs());
    assert.equal(await workspace.stop(again.child), 0);
    const db = openDatabase(path.join(dir, 'relay.db'), { readonly: true });
    try {
      const kept = new Set(db.all<{ fault_id: string }>('SELECT fault_id FROM faults').map((row) => row.fault_id));
      const lost = acknowledged.filter((faultId) => !kept.has(faultId));
      assert.deepEqual(lost, [], `${lost.length} acknowledged report(s) lost`);
    } finally {
      db.close();
    }
    const verify = workspace.run(environment, 'audit-log', 'verify', '--dir', dir, '--role', 'relay');
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });
});
