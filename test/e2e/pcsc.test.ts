// Proves the compiled binary, copied away from the source tree, reads a card through a real pcscd:
// the smartcard addon is embedded in the binary, and `kiosk run --pcsc` issues a certificate from
// the card file plugged into vsmartcard's virtual reader (test/pcsc.ts).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nextBusinessMorning } from '../../cmd/demo.ts';
import { formatJstIso } from '../../core/jst.ts';
import { readCardFile } from '../../drivers/card/card-file.ts';
import { insertCard, pcscMissing, startPcsc, type PcscStack } from '../pcsc.ts';
import { BARE_ENVIRONMENT, binaryWorkspace, type BinaryWorkspace } from './binary-fixture.ts';
import { freshDeployment } from '../cmd/deployment-fixture.ts';

describe('the compiled binary with --pcsc', { skip: pcscMissing }, () => {
  let workspace: BinaryWorkspace;
  let work: string;
  let binary: string;
  let stack: PcscStack;
  let environment: Record<string, string>;

  before(async () => {
    stack = await startPcsc();
    workspace = binaryWorkspace('cvs-e2e-pcsc-');
    ({ work, binary } = workspace);
    environment = { ...BARE_ENVIRONMENT, CVS_ISSUE_TIME: formatJstIso(nextBusinessMorning(Date.now())), ...stack.env };
  });

  after(() => workspace?.close());

  // The card answers from a process of its own, so this process may block on the binary.
  const run = (...args: string[]) => workspace.run(environment, ...args);
  const serve = (args: string[]) => workspace.serve(environment, args);

  it('reads the card on the PC/SC reader: a wrong PIN, then a certificate issued a session later', async () => {
    const dir = path.join(work, 'roles');
    // What `init` writes, from the template the cmd tests share: the binary's own init is tested in
    // binary.test.ts and scriptable.test.ts, and each init here was 2.7 s of CPU (issue 9).
    freshDeployment(dir, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
    const center = await serve(['center', 'serve', '--dir', dir, '--listen', '127.0.0.1:0']);
    const relay = await serve(['relay', 'serve', '--dir', dir, '--listen', '127.0.0.1:0', '--center-url', center.url]);
    const cardFile = path.join(dir, 'cards', 'card-r002.json');
    const script = path.join(work, 'script.json');
    fs.writeFileSync(script, JSON.stringify({
      sessions: [
        { card: 'card-r002', pins: ['0000'], cash: [], expect: 'cancelled' },
        { card: 'card-r002', pins: ['2580'], certificateType: 'inkan', copies: 1, cash: [500], expect: 'issued' },
      ],
    }));
    const card = await insertCard(stack, cardFile);
    let kiosk: ReturnType<typeof run>;
    try {
      kiosk = run('kiosk', 'run', '--dir', dir, '--kiosk', 'K0001', '--relay-url', relay.url, '--pcsc', stack.readerName, '--script', script, '--json');
    } finally {
      await card.remove();
    }
    assert.equal(kiosk.code, 0, kiosk.stderr);
    const report = JSON.parse(kiosk.stdout);
    const [cancelled, issued] = report.sessions.map((session: { result: Record<string, unknown> }) => session.result);
    assert.deepEqual(cancelled, { outcome: 'cancelled', wrongPins: 1 });
    assert.deepEqual([issued.outcome, issued.certificateType, issued.feeYen], ['issued', 'inkan', 250]);
    assert.equal(report.outboxPending, 0);
    // The wrong PIN counted down on the card and the right one, a session later, filled it again.
    assert.equal(readCardFile(cardFile).pinTriesLeft, 3);
    const verified = run('audit-log', 'verify', '--dir', dir, '--kiosk', 'K0001');
    assert.equal(verified.code, 0, verified.stderr);
  });

  it('says in one line when pcscd cannot be reached', () => {
    const dir = path.join(work, 'roles');
    const result = spawnSync(binary, ['kiosk', 'run', '--dir', dir, '--kiosk', 'K0001', '--pcsc'], {
      cwd: work,
      env: { ...environment, PCSCLITE_CSOCK_NAME: path.join(work, 'no-pcscd-here.comm') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.status, 1);
    assert.equal(result.stderr, 'cvs-issue: cannot reach the PC/SC service (pcscd): is it running?\n');
  });
});
