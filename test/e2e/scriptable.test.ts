// Proves the binary can be driven by a script: init --json gives paths and public keys (never a
// private key), serve --json prints one JSON line with the address it listens on, a port in use
// is exit 2 naming the address, health and metrics answer on their own address, a damaged
// database is exit 2 naming the file, and
// center notice --json answers in JSON, and a municipality's own certificate type is taken from a
// file (or refused in one line).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

const built = path.resolve(import.meta.dirname, '../../dist/cvs-issue');

describe('the binary driven by a script', () => {
  let work: string;
  let dir: string;
  const environment = { PATH: '/usr/bin:/bin', HOME: os.tmpdir(), TZ: 'UTC', NO_COLOR: '1' };
  const run = (...args: string[]) => {
    const result = spawnSync(built, args, { cwd: work, env: environment, encoding: 'utf8', timeout: 60_000 });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-e2e-script-'));
    dir = path.join(work, 'site');
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('init --json names every file, public key and address', () => {
    const result = run('init', '--dir', dir, '--json');
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stdout, /PRIVATE KEY/);
    const deployment = JSON.parse(result.stdout) as { configFile: string; center: { databaseFile: string; auditVerifierKey: string }; kiosks: { kioskId: string; databaseFile: string }[]; relays: { listen: string }[] };
    assert.ok(fs.existsSync(deployment.configFile));
    assert.ok(fs.existsSync(deployment.center.databaseFile));
    assert.match(deployment.center.auditVerifierKey, /^cvs-issue\/center\+[0-9a-f]{8}\+/);
    assert.ok(deployment.kiosks.length >= 3 && deployment.kiosks.every((kiosk) => fs.existsSync(kiosk.databaseFile)));
    const again = run('init', '--dir', dir, '--json');
    assert.equal(again.code, 2);
    assert.match(again.stderr, /cvs-issue\.json/);
  });

  it('serve --json prints its address once ready; the same address again is exit 2 naming it', async () => {
    const child = spawn(built, ['center', 'serve', '--dir', dir, '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--json'], { cwd: work, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let stdout = '';
        child.stdout!.on('data', (chunk) => {
          stdout += chunk;
          if (stdout.includes('\n')) resolve(stdout.split('\n')[0]!);
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      const ready = JSON.parse(line) as { role: string; url: string; host: string; port: number; metricsUrl: string };
      assert.equal(ready.role, 'center');
      assert.equal(ready.url, `https://127.0.0.1:${ready.port}`);
      // Health and metrics from the binary, on their own address (prom-client inside the bundle).
      assert.equal(((await (await fetch(`${ready.metricsUrl}/healthz`)).json()) as { status: string }).status, 'ok');
      assert.match(await (await fetch(`${ready.metricsUrl}/metrics`)).text(), /cvs_issue_audit_log_entries\{role="center"\}/);
      const clash = run('center', 'serve', '--dir', dir, '--listen', `127.0.0.1:${ready.port}`);
      assert.equal(clash.code, 2, clash.stderr);
      assert.match(clash.stderr, new RegExp(`127\\.0\\.0\\.1:${ready.port}.*in use`));
      assert.equal(clash.stderr.trim().split('\n').length, 1);
    } finally {
      child.removeAllListeners('exit');
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    }
  });

  it('center notice --json answers in JSON; a damaged database is exit 2 naming the file', () => {
    const notice = run('center', 'notice', '--dir', dir, '--kind', 'maintenance', '--from', '2027-01-10T01:00:00+09:00', '--to', '2027-01-10T05:00:00+09:00', '--message', '定期保守', '--json');
    assert.equal(notice.code, 0, notice.stderr);
    assert.deepEqual(Object.keys(JSON.parse(notice.stdout)).sort(), ['endsAt', 'kind', 'message', 'noticeId', 'startsAt']);
    const damaged = path.join(work, 'damaged.db');
    fs.writeFileSync(damaged, Buffer.alloc(8192, 0x41));
    const verify = run('reconcile', '--month', '2026-11', '--center-db', damaged, '--operator-db', damaged);
    assert.equal(verify.code, 2, verify.stderr);
    assert.match(verify.stderr, /damaged\.db/);
  });

  it("center municipality update takes a type of the municipality's own from a file, and refuses a broken one in one line, exit 2", () => {
    const definition = { title: '住居表示証明書', issuedBy: 'residence', certifiedText: '上記のとおり証明する。', fields: [{ label: '氏名', source: 'name' }] };
    const good = path.join(work, 'offers.json');
    fs.writeFileSync(good, JSON.stringify([{ type: 'juminhyo', unitFeeYen: 300 }, { type: 'jukyo-hyoji', unitFeeYen: 150, definition }]));
    const broken = path.join(work, 'broken.json');
    fs.writeFileSync(broken, JSON.stringify([{ type: 'jukyo-hyoji', unitFeeYen: 150, definition: { ...definition, fields: [{ label: '血液型', source: 'bloodType' }] } }]));
    const refused = run('center', 'municipality', 'update', '--dir', dir, '--code', '131016', '--offers-file', broken);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /^cvs-issue: .*broken\.json: \[0\]\.definition: the type definition's fields\[0\]\.source must be one of name, [^\n]+\n$/);
    const updated = run('center', 'municipality', 'update', '--dir', dir, '--code', '131016', '--offers-file', good, '--limit', 'juminhyo.myNumber=omitted');
    assert.equal(updated.code, 0, updated.stderr);
    const listed = JSON.parse(run('center', 'municipality', 'list', '--dir', dir, '--json').stdout) as { municipalities: { code: string; types: { type: string; definition?: { title: string }; limits?: unknown }[] }[] };
    const types = listed.municipalities.find((entry) => entry.code === '131016')!.types;
    assert.deepEqual(types.map((offer) => [offer.type, offer.definition?.title ?? null, offer.limits ?? null]), [['juminhyo', null, { myNumber: ['omitted'] }], ['jukyo-hyoji', '住居表示証明書', null]]);
  });
});
