// Proves the municipality back-end contract (docs/municipality-backend.md) through real servers: a
// municipality joins a running centre with its own system (`municipality serve`, mutual TLS), a
// card is issued for one of its residents, and a kiosk issues that resident's certificate from the
// back end's record. A back end that is down or answers nonsense gives a clear refusal and never a
// certificate; the back end answers no one but the centre.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { clientFor, findRelay, loadConfig } from '../../cmd/config.ts';
import { openKiosk, runScriptedSessions } from '../../cmd/kiosk.ts';
import { referenceBackendFiles } from '../../cmd/municipality-backend.ts';
import { openBackendDatabase, readBackendResidents, startMunicipalityBackend } from '../../cmd/municipality-serve.ts';
import type { Database } from '../../drivers/store/database.ts';
import { AppError } from '../../core/errors.ts';
import { callJson } from '../../drivers/http/json-api.ts';
import { startMutualTlsServer, type RunningServer } from '../../drivers/http/server.ts';
import { BACKEND_RESIDENT_PATH } from '../../drivers/municipality/backend-client.ts';
import { popplerMissing } from '../poppler.ts';
import { run } from './cli-fixture.ts';
import { runningService, type RunningService } from './deployment-fixture.ts';

const CODE = '062014';
const resident = {
  residentId: 'R06201400001',
  municipalityCode: CODE,
  status: 'active',
  supportMeasure: false,
  name: '髙橋 花子',
  kana: 'たかはし はなこ',
  birthDate: '1990-05-01',
  sex: '女',
  address: '山形県山形市旅篭町二丁目3番25号',
  householder: '髙橋 花子',
  relationship: '世帯主',
  residentSince: '2015-04-01',
};

describe('municipality back ends', () => {
  let service: RunningService;
  let backend: RunningServer | undefined;
  let residentsFile: string;
  let backendDb: Database;
  let issuedRequestId = '';

  before(async () => {
    service = await runningService('cvs-backend-');
    residentsFile = path.join(service.dir, 'yamagata-residents.json');
    fs.writeFileSync(residentsFile, JSON.stringify([resident]));
    backendDb = openBackendDatabase(loadConfig(service.dir), CODE);
  });
  after(async () => {
    await backend?.close();
    backendDb?.close();
    await service?.close();
  });

  const session = async (pin = '4321') => {
    const loaded = loadConfig(service.dir);
    const kiosk = openKiosk(loaded, { kioskId: 'K0001', relayUrl: service.relay.server.url, clock: service.clock });
    try {
      const [report] = await runScriptedSessions(kiosk, loaded, [{ card: `card-${resident.residentId}`, pins: [pin], certificateType: 'juminhyo', copies: 1, cash: [500] }]);
      await kiosk.flushOutbox();
      const printed = kiosk.printer as unknown as { printedFiles(): string[] };
      return { result: report!.result as { outcome: string; code?: string; requestId?: string }, printed: printed.printedFiles() };
    } finally {
      await kiosk.close();
    }
  };

  it('lets a municipality join with its own system, and issues its resident\'s certificate from the record it sends', async () => {
    const added = await run('center', 'municipality', 'add', '--dir', service.dir, '--code', CODE, '--name', '山形県山形市', '--offer', 'juminhyo:300', '--backend-url', 'https://127.0.0.1:1');
    assert.equal(added.code, 0, added.stderr);
    assert.ok(fs.existsSync(path.join(service.dir, referenceBackendFiles(CODE).certificateFile)), 'the reference back end has its certificate');
    backend = await startMunicipalityBackend(loadConfig(service.dir), { code: CODE, residents: readBackendResidents(residentsFile, CODE), listen: '127.0.0.1:0', db: backendDb });
    const updated = await run('center', 'municipality', 'update', '--dir', service.dir, '--code', CODE, '--backend-url', backend.url);
    assert.equal(updated.code, 0, updated.stderr);
    const card = await run('center', 'card', 'issue', '--dir', service.dir, '--municipality', CODE, '--resident', resident.residentId, '--pin', '4321', '--json');
    assert.equal(card.code, 0, card.stderr);

    // The centre was started before any of it, and is not restarted.
    const { result, printed } = await session();
    assert.equal(result.outcome, 'issued', JSON.stringify(result));
    issuedRequestId = result.requestId!;
    const copy = printed.find((file) => path.basename(file).startsWith(result.requestId!) && file.endsWith('certificate-copy1.pdf'))!;
    if (!popplerMissing) {
      const text = spawnSync('pdftotext', [copy, '-'], { encoding: 'utf8' }).stdout;
      assert.match(text, /髙橋 花子/);
      assert.match(text, /山形市長/);
    }
    const centreDb = fs.readFileSync(path.join(service.dir, 'center.db'));
    assert.equal(centreDb.includes(Buffer.from(resident.address)), false, "the centre keeps no copy of the back end's record");
  });

  it('refuses with its own code, and issues nothing, when the back end is down or answers nonsense', async () => {
    await backend!.close();
    backend = undefined;
    const down = await session();
    assert.deepEqual([down.result.outcome, down.result.code], ['refused', 'municipality.backend_unavailable']);
    const loaded = loadConfig(service.dir);
    const files = referenceBackendFiles(CODE);
    for (const [answer, why] of [
      ['not json at all', 'not JSON'],
      [JSON.stringify({ resident: { ...resident, residentId: 'R06201400002' } }), 'another resident'],
      [JSON.stringify({ resident: { ...resident, birthDate: '1990-02-30' } }), 'a date that does not exist'],
      [JSON.stringify({ resident: { ...resident, secretExtra: 'x' } }), 'a field the contract does not have'],
    ]) {
      const nonsense = await startMutualTlsServer({
        host: '127.0.0.1',
        port: 0,
        keyPem: loaded.read(files.keyFile),
        certificatePem: loaded.read(files.certificateFile),
        clientCaPem: loaded.read(loaded.config.center.tls.caFile),
        handler: async () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: answer! }),
      });
      try {
        assert.equal((await run('center', 'municipality', 'update', '--dir', service.dir, '--code', CODE, '--backend-url', nonsense.url)).code, 0);
        const refused = await session();
        assert.deepEqual([refused.result.outcome, refused.result.code], ['refused', 'municipality.backend_invalid'], why);
        assert.equal(refused.printed.filter((file) => file.includes('certificate-copy')).length, 0, why);
      } finally {
        await nonsense.close();
      }
    }
  });

  it("does not take another municipality's back end for this one's, though one CA certifies both at one address", async () => {
    // 千代田区 gets a reference back end of its own; its server answers for 062014's residents.
    assert.equal((await run('center', 'municipality', 'update', '--dir', service.dir, '--code', '131016', '--backend-url', 'https://127.0.0.1:1')).code, 0);
    const impostor = await startMunicipalityBackend(loadConfig(service.dir), { code: '131016', residents: new Map(), listen: '127.0.0.1:0', db: backendDb });
    const loaded = loadConfig(service.dir);
    const files = referenceBackendFiles('131016');
    const answering = await startMutualTlsServer({
      host: '127.0.0.1',
      port: 0,
      keyPem: loaded.read(files.keyFile),
      certificatePem: loaded.read(files.certificateFile),
      clientCaPem: loaded.read(loaded.config.center.tls.caFile),
      handler: async () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ resident }) }),
    });
    try {
      assert.equal((await run('center', 'municipality', 'update', '--dir', service.dir, '--code', CODE, '--backend-url', answering.url)).code, 0);
      const refused = await session();
      assert.deepEqual([refused.result.outcome, refused.result.code], ['refused', 'municipality.backend_unavailable']);
    } finally {
      await answering.close();
      await impostor.close();
    }
  });

  it('answers no one but the centre: a relay\'s certificate from the same CA is refused', async () => {
    backend = await startMunicipalityBackend(loadConfig(service.dir), { code: CODE, residents: readBackendResidents(residentsFile, CODE), listen: '127.0.0.1:0', db: backendDb });
    const loaded = loadConfig(service.dir);
    const relayClient = clientFor(loaded, findRelay(loaded).centerTls, backend.url, 5_000);
    try {
      await assert.rejects(callJson(relayClient, BACKEND_RESIDENT_PATH, { municipalityCode: CODE, residentId: resident.residentId }), (error: unknown) => error instanceof AppError && error.code === 'backend.not_the_centre');
    } finally {
      await relayClient.close();
    }
  });

  it("passes a store's inquiry on to the municipality's system, and its answer back to the operator (C§16, Spec§10)", async () => {
    assert.equal((await run('center', 'municipality', 'update', '--dir', service.dir, '--code', CODE, '--backend-url', backend!.url)).code, 0);
    const relay = ['--dir', service.dir, '--center-url', service.center.server.url, '--json'];
    const asked = await run('relay', 'inquiry', ...relay, '--request', issuedRequestId, '--summary', '店頭で証明書の記載内容について問い合わせがあった');
    assert.equal(asked.code, 0, asked.stderr);
    const { inquiryId, status } = JSON.parse(asked.stdout) as { inquiryId: string; status: string };
    assert.equal(status, 'forwarded', 'the municipality has it');
    const passedOn = JSON.parse((await run('municipality', 'inquiries', '--dir', service.dir, '--code', CODE, '--json')).stdout) as { inquiries: { inquiryId: string; requestId: string; status: string }[] };
    assert.deepEqual(passedOn.inquiries.map((entry) => [entry.inquiryId, entry.requestId, entry.status]), [[inquiryId, issuedRequestId, 'forwarded']]);
    const answered = await run('municipality', 'answer', '--dir', service.dir, '--code', CODE, '--inquiry', inquiryId, '--status', 'answered', '--answer', '窓口で本人に説明し、了承を得た');
    assert.equal(answered.code, 0, answered.stderr);
    const seen = JSON.parse((await run('relay', 'inquiry', ...relay, '--status', inquiryId)).stdout) as { status: string; answer: string };
    assert.deepEqual([seen.status, seen.answer], ['answered', '窓口で本人に説明し、了承を得た']);
    // The back end down: the inquiry stands as J-LIS last heard it, and is asked about again later.
    await backend!.close();
    backend = undefined;
    const meanwhile = await run('relay', 'inquiry', ...relay, '--status', inquiryId);
    assert.equal(meanwhile.code, 0, meanwhile.stderr);
    assert.equal((JSON.parse(meanwhile.stdout) as { status: string }).status, 'answered');
    assert.equal((await run('municipality', 'answer', '--dir', service.dir, '--code', CODE, '--inquiry', 'f'.repeat(32), '--status', 'closed', '--answer', 'x')).code, 2);
    // A municipality whose back end never ran has nothing to list or answer, and no database is made for it.
    for (const args of [['inquiries', '--dir', service.dir, '--code', '011002'], ['answer', '--dir', service.dir, '--code', '011002', '--inquiry', inquiryId, '--status', 'closed', '--answer', 'x']]) {
      const result = await run('municipality', ...args);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /no back end of 011002 has run in this deployment/);
    }
    assert.equal(fs.existsSync(path.join(service.dir, 'municipalities', '011002.db')), false);
  });

  it('refuses a residents file that is not the municipality\'s, naming the entry and field', () => {
    const bad = path.join(service.dir, 'bad-residents.json');
    fs.writeFileSync(bad, JSON.stringify([resident, { ...resident, residentId: 'R2', municipalityCode: '131016' }]));
    assert.throws(() => readBackendResidents(bad, CODE), (error: unknown) => error instanceof AppError && error.where === `${bad}: [1].municipalityCode`);
    fs.writeFileSync(bad, JSON.stringify([{ ...resident, kana: 42 }]));
    assert.throws(() => readBackendResidents(bad, CODE), (error: unknown) => error instanceof AppError && error.where === `${bad}: [0]` && /"kana"/.test(error.message) && !/42/.test(error.message));
  });
});
