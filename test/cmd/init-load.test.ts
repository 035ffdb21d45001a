// Proves `init --kiosks N --residents N` makes N kiosks of the first operator, each with its own
// certificate from the store CA that the relay accepts, and N synthetic cards each of which the
// centre authenticates and issues for (relay → centre in process), and refuses bad counts (exit 2);
// and that init refuses an existing deployment unless --force, which writes owner-only files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openCenterHandler, type CenterHandler } from '../../cmd/center.ts';
import { loadConfig, type LoadedConfig } from '../../cmd/config.ts';
import { offsetClock } from '../../cmd/deps.ts';
import { nextBusinessMorning } from '../../cmd/demo.ts';
import { base64Decode, base64Encode } from '../../core/bytes.ts';
import { signedChallengeBytes } from '../../core/messages.ts';
import { digestInfoForSha256, JpkiCard } from '../../core/jpki.ts';
import { KIOSK_PATHS, parseCertificateData, parseChallengeResponse, type AuthenticateResponse } from '../../core/messages.ts';
import { readCardFile } from '../../drivers/card/card-file.ts';
import { SimulatedCardReader } from '../../drivers/card/simulated-reader.ts';
import type { RequestHandler } from '../../drivers/http/server.ts';
import { inProcessRelay, json, post } from './in-process.ts';
import { popplerMissing } from '../poppler.ts';
import { run } from './cli-fixture.ts';
import { freshDeployment } from './deployment-fixture.ts';

const text = (body: Uint8Array | string) => (typeof body === 'string' ? body : new TextDecoder().decode(body));
const sha256 = (data: Uint8Array) => new Uint8Array(createHash('sha256').update(data).digest());

interface InitJson {
  kiosks: { kioskId: string; storeId: string; operatorId: string; relayUrl: string; databaseFile: string }[];
  cards: { directory: string; count: number; syntheticCardIds: string[] };
}

describe('init --kiosks N --residents N', () => {
  let dir: string;
  let described: InitJson;
  let loaded: LoadedConfig;
  let center: CenterHandler;
  let relayClose: (() => void) | undefined;
  let relay: RequestHandler;
  const clock = offsetClock(nextBusinessMorning(Date.now()));

  let refusedWithoutForce: { code: number; stderr: string; configUnchanged: boolean };
  let configBefore: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-init-load-'));
    // One real init on each runtime serves the tests of the command itself too (issue 9: each is
    // seconds of key generation): it goes over an existing deployment, which it must first refuse.
    const args = ['--kiosks', '5', '--residents', '5', '--center-listen', '127.0.0.1:0', '--relay-listen', '127.0.0.1:0', '--json'];
    freshDeployment(dir, { centerListen: '127.0.0.1:0', relayListen: '127.0.0.1:0' });
    configBefore = fs.readFileSync(path.join(dir, 'cvs-issue.json'), 'utf8');
    const refused = await run('init', '--dir', dir, ...args);
    refusedWithoutForce = { code: refused.code, stderr: refused.stderr, configUnchanged: fs.readFileSync(path.join(dir, 'cvs-issue.json'), 'utf8') === configBefore };
    // 5, not 3: the fixture's first operator has 3 kiosks already, so 5 needs two new ones.
    const result = await run('init', '--dir', dir, '--force', ...args);
    assert.equal(result.code, 0, result.stderr);
    described = JSON.parse(result.stdout) as InitJson;
    loaded = loadConfig(dir);
    center = openCenterHandler(loaded, { clock });
    const opened = inProcessRelay(loaded, center, clock);
    relayClose = opened.close;
    relay = opened.handler;
  });
  after(() => {
    center?.close();
    relayClose?.();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an existing deployment without --force, naming its evidence, and with --force writes a new one, owner-only', () => {
    assert.equal(refusedWithoutForce.code, 2);
    assert.match(refusedWithoutForce.stderr, /already there \(cvs-issue\.json\).*--force/);
    assert.ok(refusedWithoutForce.configUnchanged, 'the refusal changed nothing');
    assert.notEqual(fs.readFileSync(path.join(dir, 'cvs-issue.json'), 'utf8'), configBefore, '--force wrote a new deployment (new keys)');
    for (const file of ['cvs-issue.json', 'center.db', 'relay.db', 'kiosks/K0001.db', 'pki/center/ca.key.pem', 'cards/card-r001.json']) {
      const mode = fs.statSync(path.join(dir, file)).mode & 0o777;
      assert.equal(mode, 0o600, `${file} is owner-only`);
    }
  });

  it('gives the first operator 5 distinct kiosks, each with its own store-CA certificate naming it, that the relay accepts', async () => {
    const ours = described.kiosks.filter((kiosk) => kiosk.operatorId === 'OP01');
    assert.deepEqual(ours.map((kiosk) => [kiosk.kioskId, kiosk.storeId]), [['K0001', 'S0001'], ['K0002', 'S0001'], ['K0003', 'S0002'], ['K1001', 'S1001'], ['K1002', 'S1001']]);
    const storeCa = new X509Certificate(loaded.read(loaded.config.relays[0]!.kioskTls.caFile));
    const serials = new Set<string>();
    const publicKeys = new Set<string>();
    for (const kiosk of loaded.config.kiosks.filter((candidate) => candidate.operatorId === 'OP01')) {
      const certificate = new X509Certificate(loaded.read(kiosk.tls.certificateFile));
      assert.equal(certificate.verify(storeCa.publicKey), true, kiosk.kioskId);
      assert.equal(certificate.subject, `O=OP01\nOU=${kiosk.storeId}\nCN=${kiosk.kioskId}`);
      serials.add(certificate.serialNumber);
      publicKeys.add(certificate.publicKey.export({ type: 'spki', format: 'der' }).toString('hex'));
      const answer = await relay(post(KIOSK_PATHS.challenge, { kioskId: kiosk.kioskId }, { CN: kiosk.kioskId, OU: kiosk.storeId, O: 'OP01' }));
      assert.equal(answer.status, 200, `${kiosk.kioskId}: ${text(answer.body)}`);
    }
    assert.equal(serials.size, 5);
    assert.equal(publicKeys.size, 5);
    assert.ok(fs.existsSync(path.join(dir, 'kiosks', 'K1002.db')));
    assert.ok(fs.existsSync(path.join(dir, 'pki', 'maintenance', 'K1002.txt')));
  });

  it('writes 5 synthetic cards, each authenticated by the centre and issued a certificate for its own resident', async () => {
    assert.deepEqual(described.cards.syntheticCardIds, ['card-r1001', 'card-r1002', 'card-r1003', 'card-r1004', 'card-r1005']);
    assert.equal(described.cards.count, 15);
    const kiosk = { CN: 'K1001', OU: 'S1001', O: 'OP01' };
    const municipalities = new Set<string>();
    const residentRefs = new Set<string>();
    const pdfs: Uint8Array[] = [];
    for (const cardId of described.cards.syntheticCardIds) {
      const cardFile = path.join(described.cards.directory, `${cardId}.json`);
      const reader = new SimulatedCardReader('test reader');
      reader.place(cardFile);
      const card = new JpkiCard(await reader.connect());
      await card.selectApplet();
      const certificateDer = await card.readAuthCertificate();
      assert.deepEqual(await card.verifyAuthPin(readCardFile(cardFile).pin), { ok: true });
      const challengeAnswer = await relay(post(KIOSK_PATHS.challenge, { kioskId: 'K1001' }, kiosk));
      const challenge = parseChallengeResponse(json(challengeAnswer.body));
      const signature = await card.signAuth(digestInfoForSha256(sha256(signedChallengeBytes(base64Decode(challenge.challengeBase64), 'K1001'))));
      const authAnswer = await relay(post(KIOSK_PATHS.authenticate, { kioskId: 'K1001', challengeId: challenge.challengeId, certificateDerBase64: base64Encode(certificateDer), signatureBase64: base64Encode(signature) }, kiosk));
      assert.equal(authAnswer.status, 200, `${cardId}: ${text(authAnswer.body)}`);
      const session = json(authAnswer.body) as AuthenticateResponse;
      municipalities.add(session.municipality.code);
      residentRefs.add(session.residentRef);
      const requestId = createHash('sha256').update(cardId).digest('hex').slice(0, 32);
      const dataAnswer = await relay(post(KIOSK_PATHS.certificates, { kioskId: 'K1001', sessionToken: session.sessionToken, requestId, certificateType: 'juminhyo', copies: 1 }, kiosk));
      assert.equal(dataAnswer.status, 200, `${cardId}: ${text(dataAnswer.body)}`);
      const data = parseCertificateData(json(dataAnswer.body));
      assert.deepEqual([data.requestId, data.kioskId, data.residentRef, data.copies], [requestId, 'K1001', session.residentRef, 1]);
      pdfs.push(...data.pdfsBase64.map(base64Decode));
      // The same request again (a network that duplicated it) gets the same certificate data, byte for byte.
      const again = await relay(post(KIOSK_PATHS.certificates, { kioskId: 'K1001', sessionToken: session.sessionToken, requestId, certificateType: 'juminhyo', copies: 1 }, kiosk));
      assert.equal(again.status, 200, `${cardId} again: ${text(again.body)}`);
      assert.deepEqual(parseCertificateData(json(again.body)), data);
      await reader.disconnect();
    }
    // Spread round-robin over the four participating municipalities (函館市 takes no part).
    assert.deepEqual([...municipalities].sort(), ['011002', '131016', '141003', '372013']);
    assert.equal(residentRefs.size, 5);
    if (popplerMissing === false) {
      // The third synthetic resident's surname has the variant 髙, which the certificate must print as it is.
      const printed = spawnSync('pdftotext', ['-', '-'], { input: pdfs[2], encoding: 'utf8' });
      assert.equal(printed.status, 0, printed.stderr);
      assert.match(printed.stdout.replace(/\s+/g, ' '), /髙橋 一郎/);
    }
  });

  it('refuses a count that is zero, negative, not a whole number or absurd, with one line and exit 2, writing nothing', async () => {
    const refusedDir = path.join(dir, 'refused');
    const cases: [string, string][] = [['--kiosks', '0'], ['--kiosks', '-3'], ['--kiosks', '2.5'], ['--kiosks', '1e2'], ['--kiosks', 'four'], ['--kiosks', '1001'], ['--residents', '0'], ['--residents', '10001'], ['--residents', '99999999999']];
    for (const [flag, value] of cases) {
      const result = await run('init', '--dir', refusedDir, flag, value);
      assert.equal(result.code, 2, `${flag} ${value}: ${result.stderr}`);
      assert.match(result.stderr, new RegExp(`^cvs-issue: ${flag} must be a whole number from 1 to [0-9]+ \\(got "${value.replace('.', '\\.')}"\\)\n$`));
      assert.equal(fs.existsSync(refusedDir), false, `${flag} ${value} wrote something`);
    }
  });
});
