// Proves the centre's CRL fetcher (cmd/crl-fetch.ts) against a real HTTPS distribution point: a
// newer list (DER, as distribution points serve it) is written over the CRL file, whole and
// owner-only, for the card verifier to take up; the same list again changes nothing; a list that
// does not verify, an older one (it could hide a revocation), or a failed fetch leaves the file as
// it was and reports its code; and the deployment's jpkiCrl setting is checked.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCenter } from '../../cmd/center.ts';
import { loadConfig } from '../../cmd/config.ts';
import { withDatabase } from '../../drivers/store/database.ts';
import { freshDeployment } from './deployment-fixture.ts';
import { startCrlFetcher } from '../../cmd/crl-fetch.ts';
import { AppError } from '../../core/errors.ts';
import type { Timers } from '../../core/ports.ts';
import { createMutualTlsClient } from '../../drivers/http/client.ts';
import { createCertificateAuthority, createCrl } from '../../drivers/pki/issue.ts';
import { parseCrl } from '../../drivers/pki/verify.ts';
import { testRsaKey } from '../rsa-keys.ts';
import { createTestCertificateAuthority } from '../drivers/http/tls-fixture.ts';

const jpkiCa = createCertificateAuthority({ subject: { commonName: 'JPKI user authentication test CA', country: 'JP' }, validFrom: new Date('2020-01-01T00:00:00Z'), validTo: new Date('2040-01-01T00:00:00Z'), keyPair: testRsaKey(0) });
const crlOf = (day: number, crlNumber: number) =>
  createCrl(jpkiCa, { revoked: day > 10 ? [{ serialHex: '0a01', revokedAt: new Date(Date.UTC(2026, 11, day)) }] : [], thisUpdate: new Date(Date.UTC(2026, 11, day)), nextUpdate: new Date(Date.UTC(2027, 0, day)), crlNumber });
const derOf = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
/** Timers that never fire: each test fetches when it says so. */
const stillTimers: Timers = { nowMs: () => Date.now(), set: () => 0, clear: () => undefined };

describe('the CRL from its distribution point', () => {
  const tlsAuthority = createTestCertificateAuthority({ commonName: 'Distribution Point CA' });
  const serverCertificate = tlsAuthority.issue({ commonName: 'localhost' });
  let serve: { status: number; body: Buffer } = { status: 404, body: Buffer.alloc(0) };
  let server: https.Server;
  let port = 0;
  let dir: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-crl-fetch-'));
    server = https.createServer({ key: serverCertificate.keyPem, cert: serverCertificate.certificatePem }, (request, response) => {
      response.writeHead(serve.status, { 'content-type': 'application/pkix-crl' });
      response.end(serve.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('takes a newer list, keeps it on a repeat, and ignores one that does not verify, an older one, or a failed fetch', async () => {
    const crlFile = path.join(dir, 'auth.crl.pem');
    fs.writeFileSync(crlFile, crlOf(5, 5));
    const problems: string[] = [];
    serve = { status: 200, body: derOf(crlOf(12, 12)) };
    const fetcher = startCrlFetcher({
      client: createMutualTlsClient({ baseUrl: `https://127.0.0.1:${port}`, caPem: tlsAuthority.certificatePem, certificatePem: '', keyPem: '' }),
      path: '/crl/auth.crl',
      crlFile,
      caCertificatePem: jpkiCa.certificatePem,
      timers: stillTimers,
      onProblem: (code) => problems.push(code),
    });
    try {
      // The first fetch runs at start; asking now waits for it.
      assert.equal(await fetcher.fetchNow(), 'taken');
      const held = parseCrl(fs.readFileSync(crlFile, 'utf8'), jpkiCa.certificatePem);
      assert.equal(held.thisUpdateMs, Date.UTC(2026, 11, 12));
      assert.deepEqual([...held.revokedSerialsHex], ['a01'], 'the newer list carries its revocation');
      assert.equal(fs.statSync(crlFile).mode & 0o777, 0o600);
      assert.equal(await fetcher.fetchNow(), 'unchanged');
      const before = fs.readFileSync(crlFile, 'utf8');
      const cases: [typeof serve, string][] = [
        [{ status: 200, body: Buffer.from('not a CRL at all') }, 'pki.crl_invalid'],
        [{ status: 200, body: derOf(crlOf(8, 8)) }, 'pki.crl_older'],
        [{ status: 503, body: Buffer.alloc(0) }, 'crl.fetch_failed'],
      ];
      for (const [answer, code] of cases) {
        serve = answer;
        assert.equal(await fetcher.fetchNow(), 'ignored', code);
        assert.equal(problems.at(-1), code);
        assert.equal(fs.readFileSync(crlFile, 'utf8'), before, `the file is as it was after ${code}`);
      }
      // A PEM body is taken as well.
      serve = { status: 200, body: Buffer.from(crlOf(20, 20)) };
      assert.equal(await fetcher.fetchNow(), 'taken');
      assert.equal(parseCrl(fs.readFileSync(crlFile, 'utf8'), jpkiCa.certificatePem).thisUpdateMs, Date.UTC(2026, 11, 20));
      assert.equal(problems.length, 3);
    } finally {
      await fetcher.close();
    }
  });

  it('runs in center serve when the deployment names a distribution point: the list is taken at start, a bad one is an audit entry', async () => {
    const site = path.join(dir, 'site');
    freshDeployment(site, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
    const configFile = path.join(site, 'cvs-issue.json');
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    fs.writeFileSync(path.join(site, 'pki', 'crl-point-ca.pem'), tlsAuthority.certificatePem);
    config.center.jpkiCrl = { url: `https://127.0.0.1:${port}/crl/auth.crl`, caFile: 'pki/crl-point-ca.pem' };
    fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
    const loaded = loadConfig(site);
    const authority = { certificatePem: loaded.read(loaded.config.center.jpkiCaFile), keyPem: loaded.read('pki/jpki/auth-ca.key.pem') };
    const held = parseCrl(loaded.read(loaded.config.center.jpkiCrlFile), authority.certificatePem);
    const newer = createCrl(authority, { revoked: [], thisUpdate: new Date(held.thisUpdateMs + 60_000), nextUpdate: new Date(held.nextUpdateMs + 60_000), crlNumber: 99 });
    serve = { status: 200, body: derOf(newer) };
    const center = await startCenter(loaded, { listen: '127.0.0.1:0', timers: stillTimers });
    try {
      // Asked at once, this waits for the fetch the centre made as it started.
      assert.equal(await center.crlFetcher!.fetchNow(), 'taken');
      assert.equal(await center.crlFetcher!.fetchNow(), 'unchanged');
      assert.equal(parseCrl(loaded.read(loaded.config.center.jpkiCrlFile), authority.certificatePem).thisUpdateMs, held.thisUpdateMs + 60_000);
      serve = { status: 200, body: Buffer.from('garbage') };
      assert.equal(await center.crlFetcher!.fetchNow(), 'ignored');
    } finally {
      await center.close();
    }
    const entries = withDatabase(loaded.resolve(loaded.config.center.databaseFile), (db) => db.all<{ entry: Uint8Array }>('SELECT entry FROM audit_entries').map((row) => new TextDecoder().decode(row.entry)));
    assert.ok(entries.some((entry) => entry.includes('"crl.ignored"') && entry.includes('pki.crl_invalid')), 'the bad list is in the centre\'s log');
  });

  it('checks the deployment\'s jpkiCrl setting: an https:// URL, its CA file, and whole seconds', () => {
    const deployment = path.join(dir, 'deployment');
    fs.mkdirSync(deployment, { recursive: true });
    const write = (jpkiCrl: unknown) => fs.writeFileSync(path.join(deployment, 'cvs-issue.json'), JSON.stringify({ version: 1, center: { jpkiCrl }, relays: [], kiosks: [], cardsDirectory: 'cards' }));
    write({ url: 'https://crl.example.jp/auth.crl', caFile: 'pki/crl-ca.pem', intervalSeconds: 600 });
    assert.equal(loadConfig(deployment).config.center.jpkiCrl?.url, 'https://crl.example.jp/auth.crl');
    for (const bad of [{ url: 'http://crl.example.jp/auth.crl', caFile: 'x' }, { url: 'https://crl.example.jp/auth.crl' }, { url: 'https://crl.example.jp/auth.crl', caFile: 'x', intervalSeconds: 0 }]) {
      write(bad);
      assert.throws(() => loadConfig(deployment), (error: unknown) => error instanceof AppError && error.code === 'config.bad_crl_source' && error.kind === 'usage', JSON.stringify(bad));
    }
  });
});
