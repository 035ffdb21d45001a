// Proves `kiosk diagnose` against a running relay and centre: exit 0 and one JSON document of
// passing checks when the kiosk is healthy; exit 3 naming the failing checks when the relay's
// certificate is about to expire and a notice is stuck in the outbox, when the centre stops behind
// the relay, and when the relay stops too.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { main } from '../../cmd/cvs-issue.ts';
import { bufferIo } from '../../cmd/io.ts';
import { formatUtcIso } from '../../core/jst.ts';
import { issueCertificate } from '../../drivers/pki/issue.ts';
import { withDatabase } from '../../drivers/store/database.ts';
import { runningService, type RunningService } from './deployment-fixture.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const CHECKS = ['card-reader', 'cash-unit', 'printer', 'relay', 'center', 'clock', 'certificate-kiosk', 'certificate-relay', 'certificate-ca', 'outbox', 'audit-witness', 'disk'];

/** Limits no loaded test machine can miss: the verdicts at the real limits are core's (test/core/diagnosis.test.ts), and no test here is timed. */
const LIMITS = ['--min-free-mb', '1', '--max-latency-ms', '60000'];

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

describe('kiosk diagnose', () => {
  let service: RunningService;
  let passwordFile: string;

  before(async () => {
    service = await runningService('cvs-diagnose-');
    passwordFile = path.join(service.dir, 'pki', 'maintenance', 'K0001.txt');
  });
  after(() => service?.close());

  async function diagnose(...extra: string[]) {
    const io = bufferIo(Readable.from([]));
    const argv = ['kiosk', 'diagnose', '--dir', service.dir, '--kiosk', 'K0001', '--relay-url', service.relay.server.url, '--password-file', passwordFile, ...LIMITS, ...extra];
    const code = await main(argv, io, { clock: service.clock });
    return { code, stdout: io.stdout(), stderr: io.stderr() };
  }
  const failed = (checks: Check[]) => checks.filter((check) => !check.ok).map((check) => check.name);

  it('exits 0 with every check passing, as exactly one JSON document', async () => {
    const result = await diagnose('--json');
    assert.equal(result.code, 0, result.stderr);
    const document = JSON.parse(result.stdout) as { ok: boolean; checks: Check[] };
    assert.deepEqual(Object.keys(document), ['ok', 'checks']);
    assert.equal(document.ok, true);
    assert.deepEqual(document.checks.map((check) => check.name), CHECKS);
    for (const check of document.checks) assert.deepEqual(Object.keys(check), ['name', 'ok', 'detail']);
    assert.deepEqual(failed(document.checks), []);
    const detail = Object.fromEntries(document.checks.map((check) => [check.name, check.detail]));
    assert.match(detail['card-reader']!, /^simulated: /);
    assert.match(detail.printer!, /^simulated: print folder prints\/K0001, 0 PDF file\(s\)$/);
    assert.match(detail.relay!, /^heartbeat answered in \d+ ms$/);
    assert.match(detail.center!, /^service notices through the relay answered in \d+ ms$/);
    assert.match(detail.clock!, /against the relay's Date header/);
    assert.match(detail['certificate-kiosk']!, /^pki\/operators\/OP01\/kiosks\/K0001\.cert\.pem: \d+ days left/);
    assert.match(detail['audit-witness']!, /^(\d+) entr(y|ies) here, \1 witnessed by the relay$/);
    assert.ok(!result.stdout.includes(fs.readFileSync(passwordFile, 'utf8').trim()), 'the password never reaches the output');
  });

  it('exits 3 naming a relay certificate close to expiry and a notice stuck in the outbox', async () => {
    const { loaded } = service;
    const relayTls = loaded.config.relays[0]!.kioskTls;
    const original = loaded.read(relayTls.certificateFile);
    const kioskDatabase = loaded.resolve(loaded.config.kiosks[0]!.databaseFile);
    const nowMs = Date.now();
    // The running relay keeps the certificate it started with; the file is what a renewal replaces.
    const renewed = issueCertificate(
      { keyPem: loaded.read(relayTls.caFile.replace(/\.cert\.pem$/, '.key.pem')), certificatePem: loaded.read(relayTls.caFile) },
      {
        subject: { commonName: 'relay.OP01', organization: 'OP01', organizationalUnit: 'relay' },
        usage: 'server',
        validFrom: new Date(nowMs - DAY_MS),
        validTo: new Date(nowMs + 10.5 * DAY_MS),
        publicKeyPem: createPublicKey(loaded.read(relayTls.keyFile)).export({ type: 'spki', format: 'pem' }).toString(),
      },
    );
    fs.writeFileSync(loaded.resolve(relayTls.certificateFile), renewed.certificatePem);
    withDatabase(kioskDatabase, (db) => db.run("INSERT INTO outbox (issuance_id, notice, created_at) VALUES ('stuck-notice', '{}', :at)", { at: formatUtcIso(service.clock.nowMs() - 60 * 60_000) }));
    try {
      const result = await diagnose('--json');
      assert.equal(result.code, 3, result.stderr);
      const document = JSON.parse(result.stdout) as { ok: boolean; checks: Check[] };
      assert.equal(document.ok, false);
      assert.deepEqual(failed(document.checks), ['certificate-relay', 'outbox']);
      const detail = Object.fromEntries(document.checks.map((check) => [check.name, check.detail]));
      assert.match(detail['certificate-relay']!, /^pki\/operators\/OP01\/relay-server\.cert\.pem: expires in 10 day\(s\) \(\d{4}-\d{2}-\d{2}\), renew it/);
      assert.match(detail.outbox!, /^1 notice\(s\) pending, the oldest for 1 h 0 min; no day close unsent \(limit 15 min\)$/);
      assert.equal(result.stderr, 'cvs-issue: K0001: 2 check(s) failed: certificate-relay, outbox\n');
    } finally {
      fs.writeFileSync(loaded.resolve(relayTls.certificateFile), original);
      withDatabase(kioskDatabase, (db) => db.run("DELETE FROM outbox WHERE issuance_id = 'stuck-notice'"));
    }
  });

  it('exits 3 naming the centre alone when it stops behind a running relay', async () => {
    await service.center.close();
    const result = await diagnose('--json');
    assert.equal(result.code, 3, result.stderr);
    const document = JSON.parse(result.stdout) as { ok: boolean; checks: Check[] };
    assert.deepEqual(failed(document.checks), ['center']);
    assert.match(document.checks.find((check) => check.name === 'center')!.detail, /^through the relay: transport\.unreachable: cannot reach 127\.0\.0\.1:\d+/);
  });

  it('exits 3 naming the relay, the centre behind it, the clock and the audit witness when the relay is stopped', async () => {
    await service.relay.close();
    const result = await diagnose();
    assert.equal(result.code, 3, result.stderr);
    assert.equal(result.stderr, 'cvs-issue: K0001: 4 check(s) failed: relay, center, clock, audit-witness\n');
    assert.match(result.stdout, /^kiosk K0001: 4 check\(s\) failed\n/);
    assert.match(result.stdout, /│ relay +│ FAIL +│ transport\.unreachable: cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    assert.match(result.stdout, /│ center +│ FAIL +│ not reached: the relay did not answer \(transport\.unreachable\)/);
    assert.match(result.stdout, /│ audit-witness +│ FAIL +│ \d+ entries here, \d+ witnessed by the relay: the relay could not be reached, 1 entry unwitnessed/);
    assert.match(result.stdout, /│ disk +│ ok +│ \d+ MiB free/);
  });

  it('refuses a bad threshold or printer with exit 2 before asking for the password', async () => {
    for (const flags of [['--min-free-mb', 'lots'], ['--max-latency-ms', '0'], ['--printer', 'cups:'], ['--no-such-flag']]) {
      const result = await diagnose(...flags);
      assert.equal(result.code, 2, flags.join(' '));
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    }
  });
});
