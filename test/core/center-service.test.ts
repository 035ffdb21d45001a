// Proves the centre authenticates a card only with a fresh, single-use challenge of the same kiosk and a good certificate and signature, issues certificate data from the right municipality within its rules, and records each completion notice exactly once.
// The challenge and certificate-request suites are a contract: they run against the in-memory store,
// the SQLite store and the PostgreSQL store alike (a throw-away server, test/postgres.ts).
import { discardAudit } from '../../core/audit-entry.ts';
import { createMerkleHasher } from '../../core/merkle.ts';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CertificateType } from '../../core/certificate-types.ts';
import { JUKYO_HYOJI } from './certificate-type-fixture.ts';
import { CHALLENGE_TTL_MS, createCenterService, type CenterService } from '../../core/center-service.ts';
import { certificateDigestInput, signedChallengeBytes } from '../../core/messages.ts';
import type { CallerIdentity } from '../../core/caller.ts';
import type { CardCertificateVerifier, CardProblem, CenterStore, MunicipalityDirectory } from '../../core/center-ports.ts';
import { AppError } from '../../core/errors.ts';
import type { AuthenticateResponse, CompletionNotice } from '../../core/messages.ts';
import type { Municipality, TypeHours } from '../../core/municipality.ts';
import type { CertificateContent, Resident } from '../../core/resident.ts';
import { memoryCenterStore, testResident, type MemoryCenterStore } from './center-fixture.ts';
import { sharedPostgres } from '../postgres.ts';
import { generateEd25519KeyPair } from '../../drivers/pki/ed25519.ts';
import { AuditLog, auditOrigin } from '../../drivers/store/audit-log.ts';
import { createCenterStore, openCenterDatabase, saveOperator } from '../../drivers/store/center-store.ts';

const at = (iso: string) => Date.parse(iso);
const MONDAY_MORNING = at('2026-11-02T10:00:00+09:00');

const WEEKDAYS_NINE_TO_FIVE: TypeHours = { window: { startMinute: 540, endMinute: 1020 }, weekdaysOnly: true, closedOnHolidays: true };

const MUNICIPALITIES: Municipality[] = [
  {
    code: '131016',
    name: '千代田区',
    mayorTitle: '千代田区長',
    participating: true,
    maxCopiesPerType: 3,
    offers: [
      // No 住民票 with 個人番号 at a kiosk (a municipal limit).
      { type: 'juminhyo', unitFeeYen: 300, limits: { myNumber: ['omitted'] } },
      { type: 'inkan', unitFeeYen: 300 },
      { type: 'koseki-zenbu', unitFeeYen: 450, hours: WEEKDAYS_NINE_TO_FIVE },
      // A type of the municipality's own: no code knows it, only this definition.
      { type: 'jukyo-hyoji', unitFeeYen: 150, definition: JUKYO_HYOJI },
    ],
  },
  {
    code: '372013',
    name: '高松市',
    mayorTitle: '高松市長',
    participating: true,
    maxCopiesPerType: 10,
    offers: [
      { type: 'juminhyo', unitFeeYen: 200 },
      { type: 'koseki-zenbu', unitFeeYen: 350, hours: WEEKDAYS_NINE_TO_FIVE },
      { type: 'fuhyo', unitFeeYen: 250 },
      // A type of its own that the 本籍地 issues (除籍謄本): for a resident whose 本籍 is here, from here.
      { type: 'joseki-zenbu', unitFeeYen: 750, definition: { title: '除籍全部事項証明書', issuedBy: 'honseki', certifiedText: 'これは、除籍に記録されている事項の全部を証明した書面である。', fields: [{ label: '本籍', source: 'honseki' }, { label: '氏名', source: 'name' }], options: [] } },
    ],
  },
  { code: '141003', name: '横浜市', mayorTitle: '横浜市長', participating: false, maxCopiesPerType: 10, offers: [{ type: 'juminhyo', unitFeeYen: 300 }] },
];

const resident = testResident;

/** Card serial → resident. */
const RESIDENTS: Record<string, Resident> = {
  aa01: resident('R1', { honsekiCode: '372013', honseki: '香川県高松市番町1丁目8番地' }),
  aa02: resident('R2', { municipalityCode: '141003' }),
  aa03: resident('R3', { status: 'moved-out' }),
  aa04: resident('R4'),
};

const directory: MunicipalityDirectory = {
  findMunicipality: (code) => MUNICIPALITIES.find((municipality) => municipality.code === code),
  findResidentByCardSerial: async (serialHex) => RESIDENTS[serialHex],
  findResident: async (residentId) => Object.values(RESIDENTS).find((candidate) => candidate.residentId === residentId),
};

/** A card certificate here is the text "serial:<hex>" or "problem:<CardProblem>"; a signature is "signed:" + hex of the data. */
const verifier: CardCertificateVerifier = {
  check(certificateDer) {
    const text = Buffer.from(certificateDer).toString();
    if (text.startsWith('problem:')) return { ok: false, problem: text.slice('problem:'.length) as CardProblem };
    return { ok: true, certificate: { serialHex: text.slice('serial:'.length) } };
  },
  verifySignature(certificateDer, data, signature) {
    return Buffer.from(signature).toString() === `signed:${Buffer.from(data).toString('hex')}`;
  },
};

/** kiosk-a's completion notice for req-1 (住民票, 131016), with its outcome and counts. */
function completionOfReq1(what: Pick<CompletionNotice, 'copies' | 'feeYen' | 'outcome'> & Partial<CompletionNotice>): CompletionNotice {
  return { issuanceId: 'req-1', issuedAt: '2026-11-02T10:01:00+09:00', storeId: 'store-01', kioskId: 'kiosk-a', municipalityCode: '131016', certificateType: 'juminhyo', ...what };
}

const KIOSK_A: CallerIdentity = { operatorId: 'op-1', storeId: 'store-01', kioskId: 'kiosk-a' };
const KIOSK_B: CallerIdentity = { operatorId: 'op-1', storeId: 'store-02', kioskId: 'kiosk-b' };

interface World<Store extends CenterStore = MemoryCenterStore> {
  service: CenterService;
  store: Store;
  clock: { nowMs: number };
  rendered: CertificateContent[];
  close(): void;
}

function makeWorld(): World {
  return worldWith(memoryCenterStore(['op-1']), () => undefined);
}

/** The same service over the real SQLite store: the contract suites below run against both. */
function makeSqliteWorld(): World<CenterStore> {
  const dir = mkdtempSync(join(tmpdir(), 'cvs-center-contract-'));
  return storeWorld(join(dir, 'center.db'), () => rmSync(dir, { recursive: true, force: true }));
}

const postgres = await sharedPostgres();
const postgresUrl = postgres.createDatabase('contract');

/** The same service over the PostgreSQL store, its tables emptied for each test. */
function makePostgresWorld(): World<CenterStore> {
  postgres.emptyTables('contract');
  return storeWorld(postgresUrl, () => undefined);
}

/** The centre's audit key: every centre process signs the one log with it. */
const CENTRE_AUDIT_KEY = generateEd25519KeyPair().privateKeyPem;

function storeWorld(location: string, cleanUp: () => void, firstRandom = 0): World<CenterStore> {
  const db = openCenterDatabase(location);
  saveOperator(db, 'op-1', 'Operator One', 'cvs-issue/relay/op-1+00000000+AAAA');
  const audit = new AuditLog(db, { origin: auditOrigin('center'), privateKeyPem: CENTRE_AUDIT_KEY, clock: { nowMs: () => MONDAY_MORNING } });
  return worldWith(
    createCenterStore(db, audit),
    () => {
      db.close();
      cleanUp();
    },
    firstRandom,
  );
}

const STORES: [string, () => World<CenterStore>][] = [
  ['in-memory store', makeWorld],
  ['SQLite store', makeSqliteWorld],
  ['PostgreSQL store', makePostgresWorld],
];

/** `firstRandom`: where the world's random bytes start, so two worlds on one store draw different ids. */
function worldWith<Store extends CenterStore>(store: Store, close: () => void, firstRandom = 0): World<Store> {
  const clock = { nowMs: MONDAY_MORNING };
  let counter = firstRandom;
  const rendered: CertificateContent[] = [];
  const service = createCenterService({
    clock: { nowMs: () => clock.nowMs },
    audit: discardAudit,
    witness: { hasher: createMerkleHasher((data) => new Uint8Array(createHash('sha256').update(data).digest())), noteVerifierFor: () => { throw new Error('no relay keys in this test'); } },
    random: {
      bytes: (length) => {
        counter += 1;
        return new Uint8Array(length).fill(counter & 0xff);
      },
    },
    store,
    directory,
    verifier,
    isHoliday: () => false,
    renderCertificate: async (content) => {
      rendered.push(content);
      return content.serials.map((serial) => new TextEncoder().encode(`%PDF ${content.title} ${content.municipalityName} ${serial}`));
    },
    sha256Hex: (data) => createHash('sha256').update(data).digest('hex'),
  });
  return { service, store, clock, rendered, close };
}

const base64 = (text: string) => Buffer.from(text).toString('base64');

/** What a kiosk sends after its card signed the challenge; `sign` lets a test spoil the signature. */
function authenticateBody(caller: CallerIdentity, challenge: { challengeId: string; challengeBase64: string }, certificate: string, sign = true) {
  const signed = signedChallengeBytes(new Uint8Array(Buffer.from(challenge.challengeBase64, 'base64')), caller.kioskId);
  return {
    kioskId: caller.kioskId,
    challengeId: challenge.challengeId,
    certificateDerBase64: base64(certificate),
    signatureBase64: base64(`signed:${Buffer.from(signed).toString('hex')}${sign ? '' : '00'}`),
  };
}

function logIn(world: World<CenterStore>, serialHex: string, caller: CallerIdentity = KIOSK_A): Promise<AuthenticateResponse> {
  const challenge = world.service.issueChallenge(caller, { kioskId: caller.kioskId });
  return world.service.authenticate(caller, authenticateBody(caller, challenge, `serial:${serialHex}`));
}

function refusedWith(action: () => unknown, kind: AppError['kind'], code: string): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof AppError, `expected AppError, got ${String(error)}`);
    assert.deepEqual({ kind: error.kind, code: error.code }, { kind, code });
    return true;
  });
}

async function rejectsWith(action: () => Promise<unknown>, kind: AppError['kind'], code: string): Promise<void> {
  await assert.rejects(action, (error: unknown) => {
    assert.ok(error instanceof AppError, `expected AppError, got ${String(error)}`);
    assert.deepEqual({ kind: error.kind, code: error.code }, { kind, code });
    return true;
  });
}

for (const [storeName, build] of STORES) {
describe(`centre (${storeName}): challenges and authentication`, () => {
  let world: World<CenterStore>;
  beforeEach(async () => {
    world = build();
  });
  afterEach(() => world.close());

  it('issues a challenge that expires a minute later', async () => {
    const challenge = world.service.issueChallenge(KIOSK_A, { kioskId: 'kiosk-a' });
    assert.equal(challenge.expiresAt, new Date(MONDAY_MORNING + CHALLENGE_TTL_MS).toISOString());
    assert.equal(Buffer.from(challenge.challengeBase64, 'base64').length, 32);
  });

  it('authenticates a resident and offers the menu, 戸籍 and 附票 from the 本籍地', async () => {
    const response = await logIn(world, 'aa01');
    assert.deepEqual(response.municipality, { code: '131016', name: '千代田区' });
    assert.equal(response.expiresAt, new Date(MONDAY_MORNING + 5 * 60_000).toISOString());
    assert.deepEqual(response.menu.map(({ options: _options, ...item }) => item), [
      { certificateType: 'juminhyo', title: '住民票の写し', unitFeeYen: 300, maxCopies: 3, available: true, hoursText: '毎日 06:30〜23:00' },
      { certificateType: 'inkan', title: '印鑑登録証明書', unitFeeYen: 300, maxCopies: 3, available: true, hoursText: '毎日 06:30〜23:00' },
      { certificateType: 'jukyo-hyoji', title: '住居表示証明書', unitFeeYen: 150, maxCopies: 3, available: true, hoursText: '毎日 06:30〜23:00' },
      { certificateType: 'koseki-zenbu', title: '戸籍全部事項証明書', unitFeeYen: 350, maxCopies: 10, available: true, hoursText: '平日 09:00〜17:00' },
      { certificateType: 'fuhyo', title: '戸籍の附票の写し', unitFeeYen: 250, maxCopies: 10, available: true, hoursText: '毎日 06:30〜23:00' },
      { certificateType: 'joseki-zenbu', title: '除籍全部事項証明書', unitFeeYen: 750, maxCopies: 10, available: true, hoursText: '毎日 06:30〜23:00' },
    ]);
    // Each item carries the options of its type, with their defaults; 印鑑 and 戸籍 have none.
    assert.deepEqual(
      response.menu.map((item) => item.options.map((option) => `${option.key}=${option.default}:${option.choices.map((choice) => choice.value).join('|')}`)),
      [['household=self:self|all', 'relationship=shown:omitted|shown', 'honseki=omitted:omitted|shown', 'myNumber=omitted:omitted'], [], ['householder=omitted:omitted|shown'], [], [], []],
    );
  });

  it('offers the residence menu unchanged when the 本籍地 is not registered', async () => {
    const types = await (await logIn(world, 'aa04')).menu.map((item) => [item.certificateType, item.unitFeeYen]);
    assert.deepEqual(types, [
      ['juminhyo', 300],
      ['inkan', 300],
      ['koseki-zenbu', 450],
      ['jukyo-hyoji', 150],
    ]);
  });

  it('answers the same answer to a used challenge with the same session, while it lives, and refuses any other answer to it', async () => {
    const challenge = world.service.issueChallenge(KIOSK_A, { kioskId: 'kiosk-a' });
    const body = authenticateBody(KIOSK_A, challenge, 'serial:aa01');
    const first = await world.service.authenticate(KIOSK_A, body);
    // A duplicated request, or a retry after the answer was lost: the same session, no second one.
    world.clock.nowMs += 60_000;
    const again = await world.service.authenticate(KIOSK_A, body);
    assert.deepEqual({ ...again, menu: undefined }, { ...first, menu: undefined });
    assert.equal(world.store.findSession(first.sessionToken)?.sessionToken, first.sessionToken);
    // Another card's answer, an answer not signed by the card, another kiosk's: refused.
    await rejectsWith(() => world.service.authenticate(KIOSK_A, authenticateBody(KIOSK_A, challenge, 'serial:aa04')), 'refused', 'auth.challenge_unknown');
    await rejectsWith(() => world.service.authenticate(KIOSK_A, authenticateBody(KIOSK_A, challenge, 'serial:aa01', false)), 'refused', 'auth.challenge_unknown');
    await rejectsWith(() => world.service.authenticate(KIOSK_B, { ...authenticateBody(KIOSK_B, challenge, 'serial:aa01') }), 'refused', 'auth.challenge_unknown');
    await rejectsWith(() => world.service.authenticate(KIOSK_B, { ...body, kioskId: 'kiosk-b' }), 'refused', 'auth.challenge_unknown');
    // Once the session has expired, the same answer is refused as any used challenge.
    world.clock.nowMs = MONDAY_MORNING + 5 * 60_000;
    await rejectsWith(() => world.service.authenticate(KIOSK_A, body), 'refused', 'auth.challenge_unknown');
  });

  it('refuses an expired challenge, and it stays used', async () => {
    const challenge = world.service.issueChallenge(KIOSK_A, { kioskId: 'kiosk-a' });
    const body = authenticateBody(KIOSK_A, challenge, 'serial:aa01');
    world.clock.nowMs += CHALLENGE_TTL_MS;
    await rejectsWith(() => world.service.authenticate(KIOSK_A, body), 'refused', 'auth.challenge_expired');
    world.clock.nowMs = MONDAY_MORNING;
    await rejectsWith(() => world.service.authenticate(KIOSK_A, body), 'refused', 'auth.challenge_unknown');
  });

  it('accepts a challenge one millisecond before it expires', async () => {
    const challenge = world.service.issueChallenge(KIOSK_A, { kioskId: 'kiosk-a' });
    world.clock.nowMs += CHALLENGE_TTL_MS - 1;
    assert.equal((await world.service.authenticate(KIOSK_A, authenticateBody(KIOSK_A, challenge, 'serial:aa01'))).municipality.code, '131016');
  });

  it("refuses another kiosk's challenge", async () => {
    const challenge = world.service.issueChallenge(KIOSK_A, { kioskId: 'kiosk-a' });
    await rejectsWith(
      () => world.service.authenticate(KIOSK_B, authenticateBody(KIOSK_B, challenge, 'serial:aa01')),
      'refused',
      'auth.challenge_unknown',
    );
  });

  it('refuses a kiosk id that differs from the relayed certificate, and an unknown operator', async () => {
    refusedWith(() => world.service.issueChallenge(KIOSK_A, { kioskId: 'kiosk-b' }), 'unauthorized', 'center.kiosk_mismatch');
    refusedWith(
      () => world.service.issueChallenge({ ...KIOSK_A, operatorId: 'op-unknown' }, { kioskId: 'kiosk-a' }),
      'unauthorized',
      'center.operator_unknown',
    );
  });

  const problems: [CardProblem, string][] = [
    ['malformed', 'card.unreadable'],
    ['untrusted', 'card.untrusted'],
    ['not-yet-valid', 'card.not_yet_valid'],
    ['expired', 'card.expired'],
    ['revoked', 'card.revoked'],
    ['crl-stale', 'center.crl_stale'],
  ];
  for (const [problem, code] of problems) {
    it(`refuses a card whose certificate is ${problem} with ${code}`, async () => {
      const challenge = world.service.issueChallenge(KIOSK_A, { kioskId: 'kiosk-a' });
      await rejectsWith(() => world.service.authenticate(KIOSK_A, authenticateBody(KIOSK_A, challenge, `problem:${problem}`)), 'refused', code);
    });
  }

  it('refuses a signature that does not verify', async () => {
    const challenge = world.service.issueChallenge(KIOSK_A, { kioskId: 'kiosk-a' });
    await rejectsWith(
      () => world.service.authenticate(KIOSK_A, authenticateBody(KIOSK_A, challenge, 'serial:aa01', false)),
      'refused',
      'auth.bad_signature',
    );
  });

  it('refuses a signature over another kiosk id (the card signed for kiosk-b)', async () => {
    const challenge = world.service.issueChallenge(KIOSK_A, { kioskId: 'kiosk-a' });
    const signedForB = authenticateBody(KIOSK_B, challenge, 'serial:aa01');
    await rejectsWith(() => world.service.authenticate(KIOSK_A, { ...signedForB, kioskId: 'kiosk-a' }), 'refused', 'auth.bad_signature');
  });

  it('refuses a resident of a non-participating municipality, and a card no municipality knows', async () => {
    await rejectsWith(() => logIn(world, 'aa02'), 'refused', 'municipality.not_participating');
    await rejectsWith(() => logIn(world, 'ffff'), 'refused', 'municipality.not_participating');
  });

  it('refuses a resident who moved out', async () => {
    await rejectsWith(() => logIn(world, 'aa03'), 'refused', 'resident.moved_out');
  });

  it('is closed at 23:30 JST: no challenge, and no authentication with one issued before 23:00', async () => {
    world.clock.nowMs = at('2026-11-02T22:59:30+09:00');
    const challenge = world.service.issueChallenge(KIOSK_A, { kioskId: 'kiosk-a' });
    world.clock.nowMs = at('2026-11-02T23:00:00+09:00');
    await rejectsWith(() => world.service.authenticate(KIOSK_A, authenticateBody(KIOSK_A, challenge, 'serial:aa01')), 'refused', 'hours.center_closed');
    world.clock.nowMs = at('2026-11-02T23:30:00+09:00');
    refusedWith(() => world.service.issueChallenge(KIOSK_A, { kioskId: 'kiosk-a' }), 'refused', 'hours.center_closed');
  });
});

describe(`centre (${storeName}): certificate requests`, () => {
  let world: World<CenterStore>;
  let sessionToken: string;
  let residentRef: string;
  beforeEach(async () => {
    world = build();
    ({ sessionToken, residentRef } = await logIn(world, 'aa01'));
  });
  afterEach(() => world.close());

  const request = (certificateType: CertificateType, copies: number, requestId = 'req-1') => ({
    kioskId: 'kiosk-a',
    sessionToken,
    requestId,
    certificateType,
    copies,
  });

  it('returns a 住民票 from the 住所地, bound to the request, kiosk and resident', async () => {
    const data = await world.service.requestCertificate(KIOSK_A, request('juminhyo', 2));
    const pdfs = ['req-1-1', 'req-1-2'].map((serial) => new TextEncoder().encode(`%PDF 住民票の写し 千代田区長 ${serial}`));
    const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash('sha256').update(bytes).digest());
    assert.deepEqual(data, {
      requestId: 'req-1',
      kioskId: 'kiosk-a',
      residentRef,
      certificateType: 'juminhyo',
      title: '住民票の写し',
      options: { household: 'self', relationship: 'shown', honseki: 'omitted', myNumber: 'omitted' },
      copies: 2,
      unitFeeYen: 300,
      feeYen: 600,
      municipalityCode: '131016',
      municipalityName: '千代田区',
      contentSha256: Buffer.from(sha256(certificateDigestInput(pdfs.map(sha256)))).toString('hex'),
      pdfsBase64: pdfs.map((pdf) => Buffer.from(pdf).toString('base64')),
    });
    assert.deepEqual(world.rendered[0]!.serials, ['req-1-1', 'req-1-2']);
    assert.equal(world.rendered[0]!.issuedOnText, '令和8年11月2日');
  });

  it('sends 戸籍 to the 本籍地 municipality and charges its fee', async () => {
    const data = await world.service.requestCertificate(KIOSK_A, request('koseki-zenbu', 2));
    assert.deepEqual(
      { code: data.municipalityCode, name: data.municipalityName, unitFeeYen: data.unitFeeYen, feeYen: data.feeYen },
      { code: '372013', name: '高松市', unitFeeYen: 350, feeYen: 700 },
    );
    assert.equal(world.rendered[0]!.municipalityName, '高松市長');
  });

  it("sends a 本籍地's own type to the 本籍地, as its definition says, and refuses it to a resident whose 本籍 is elsewhere", async () => {
    const data = await world.service.requestCertificate(KIOSK_A, request('joseki-zenbu', 1));
    assert.deepEqual([data.municipalityCode, data.title, data.feeYen], ['372013', '除籍全部事項証明書', 750]);
    ({ sessionToken } = await logIn(world, 'aa04'));
    await rejectsWith(() => world.service.requestCertificate(KIOSK_A, request('joseki-zenbu', 1, 'req-2')), 'refused', 'request.type_not_offered');
  });

  it('refuses more copies than the municipality allows', async () => {
    await rejectsWith(() => world.service.requestCertificate(KIOSK_A, request('juminhyo', 4)), 'refused', 'request.too_many_copies');
    assert.equal((await world.service.requestCertificate(KIOSK_A, request('juminhyo', 3))).copies, 3);
  });

  it('refuses a type the municipality does not offer at kiosks', async () => {
    await rejectsWith(() => world.service.requestCertificate(KIOSK_A, request('shotoku-kazei', 1)), 'refused', 'request.type_not_offered');
  });

  it('refuses a type outside its own hours while the centre is open', async () => {
    world.clock.nowMs = at('2026-11-02T17:00:00+09:00');
    ({ sessionToken } = await logIn(world, 'aa01'));
    await rejectsWith(() => world.service.requestCertificate(KIOSK_A, request('koseki-zenbu', 1)), 'refused', 'hours.municipality_closed');
    assert.equal((await world.service.requestCertificate(KIOSK_A, request('juminhyo', 1))).municipalityCode, '131016');
  });

  it('refuses a request id that was already used for something else, as a conflict', async () => {
    await world.service.requestCertificate(KIOSK_A, request('juminhyo', 1));
    await rejectsWith(() => world.service.requestCertificate(KIOSK_A, request('inkan', 1)), 'conflict', 'request.duplicate_id');
    await rejectsWith(() => world.service.requestCertificate(KIOSK_A, request('juminhyo', 2)), 'conflict', 'request.duplicate_id');
    ({ sessionToken } = await logIn(world, 'aa01'));
    await rejectsWith(() => world.service.requestCertificate(KIOSK_A, request('juminhyo', 1)), 'conflict', 'request.duplicate_id');
  });

  it('answers the same request again with the same certificate data, rendered as at the first answer', async () => {
    const first = await world.service.requestCertificate(KIOSK_A, request('juminhyo', 2));
    world.clock.nowMs += 30_000;
    const again = await world.service.requestCertificate(KIOSK_A, request('juminhyo', 2));
    assert.deepEqual(again, first);
    const [once, twice] = world.rendered.slice(-2);
    assert.deepEqual(twice, once, 'rendered from the first answer\'s content and time');
  });

  it('makes the certificate with the options asked for, the rest at their defaults, and says which in the data', async () => {
    const data = await world.service.requestCertificate(KIOSK_A, { ...request('juminhyo', 1), options: { honseki: 'shown', relationship: 'omitted' } });
    assert.deepEqual(data.options, { household: 'self', relationship: 'omitted', honseki: 'shown', myNumber: 'omitted' });
    const labels = world.rendered[0]!.fields.map((field) => field.label);
    assert.deepEqual(labels, ['氏名', 'ふりがな', '生年月日', '性別', '住所', '住民となった日', '本籍', '筆頭者']);
    assert.equal(world.rendered[0]!.optionsText, '世帯主・続柄 省略／本籍・筆頭者 記載');
    assert.deepEqual(world.store.findRequest('req-1')!.options, data.options);
  });

  it("refuses an option value the municipality's limits leave out, and an option the type does not have", async () => {
    await rejectsWith(() => world.service.requestCertificate(KIOSK_A, { ...request('juminhyo', 1), options: { myNumber: 'shown' } }), 'refused', 'request.option_not_offered');
    await rejectsWith(() => world.service.requestCertificate(KIOSK_A, { ...request('juminhyo', 1), options: { colour: 'red' } }), 'input', 'request.option_unknown');
    await rejectsWith(() => world.service.requestCertificate(KIOSK_A, { ...request('inkan', 1), options: { household: 'all' } }), 'input', 'request.option_unknown');
    assert.equal(world.store.findRequest('req-1'), undefined);
  });

  it("issues a type of the municipality's own from its definition: title, fields, options", async () => {
    const data = await world.service.requestCertificate(KIOSK_A, { ...request('jukyo-hyoji', 2), options: { householder: 'shown' } });
    assert.deepEqual([data.title, data.feeYen, data.municipalityCode], ['住居表示証明書', 300, '131016']);
    const content = world.rendered[0]!;
    assert.deepEqual([content.title, content.certifiedText], ['住居表示証明書', JUKYO_HYOJI.certifiedText]);
    assert.deepEqual(content.fields.map((field) => field.label), ['氏名', '新住所', '住民となった日', '世帯主']);
  });

  it('refuses the same request id with other options, and gives the same answer to the same options', async () => {
    const first = await world.service.requestCertificate(KIOSK_A, { ...request('juminhyo', 1), options: { household: 'all' } });
    await rejectsWith(() => world.service.requestCertificate(KIOSK_A, { ...request('juminhyo', 1), options: { household: 'self' } }), 'conflict', 'request.duplicate_id');
    assert.deepEqual(await world.service.requestCertificate(KIOSK_A, { ...request('juminhyo', 1), options: { household: 'all' } }), first);
    // Left out, an option takes what the first answer was made with.
    assert.deepEqual(await world.service.requestCertificate(KIOSK_A, request('juminhyo', 1)), first);
  });

  it("refuses a certificate whose data the municipality's record does not hold, naming the field only", async () => {
    // aa04 has no seal registered: no 印鑑登録証明書 with an empty number.
    ({ sessionToken } = await logIn(world, 'aa04'));
    await rejectsWith(() => world.service.requestCertificate(KIOSK_A, request('inkan', 1)), 'refused', 'certificate.not_on_record');
  });

  it("refuses another kiosk's session and an expired one", async () => {
    await rejectsWith(() => world.service.requestCertificate(KIOSK_B, { ...request('juminhyo', 1), kioskId: 'kiosk-b' }), 'refused', 'session.unknown');
    world.clock.nowMs += 5 * 60_000;
    await rejectsWith(() => world.service.requestCertificate(KIOSK_A, request('juminhyo', 1)), 'refused', 'session.expired');
  });
});

describe(`centre (${storeName}): serials voided after a misprint (C§9)`, () => {
  let world: World<CenterStore>;
  beforeEach(async () => {
    world = build();
    const { sessionToken } = await logIn(world, 'aa01');
    await world.service.requestCertificate(KIOSK_A, { kioskId: 'kiosk-a', sessionToken, requestId: 'req-1', certificateType: 'juminhyo', copies: 2 });
  });
  afterEach(() => world.close());

  const refunded: CompletionNotice = completionOfReq1({ copies: 0, feeYen: 0, outcome: 'refunded', voided: { serials: ['req-1-1', 'req-1-2'], code: 'printer.jam' } });

  it('records every serial of the refunded notice as void once, and answers for each serial', async () => {
    assert.deepEqual(world.service.serialStatus('req-1-1'), { serial: 'req-1-1', status: 'unconfirmed', requestId: 'req-1', copy: 1, copies: 2, kioskId: 'kiosk-a' });
    for (const serial of ['req-1-3', 'req-2-1', 'req-1', 'req-1-0']) assert.deepEqual(world.service.serialStatus(serial), { serial, status: 'unknown' });
    // Not every serial of the request, or one of another request: refused, nothing voided.
    refusedWith(() => world.service.recordCompletion(KIOSK_A, { ...refunded, voided: { serials: ['req-1-2'], code: 'printer.jam' } }), 'input', 'completion.inconsistent');
    assert.equal(world.service.serialStatus('req-1-2').status, 'unconfirmed');
    assert.deepEqual(world.service.recordCompletion(KIOSK_A, refunded), { issuanceId: 'req-1', duplicate: false });
    // The outbox sends again after a lost answer: acknowledged, nothing recorded twice.
    assert.deepEqual(world.service.recordCompletion(KIOSK_A, refunded), { issuanceId: 'req-1', duplicate: true });
    for (const copy of [1, 2]) {
      assert.deepEqual(world.service.serialStatus(`req-1-${copy}`), {
        serial: `req-1-${copy}`, status: 'void', requestId: 'req-1', copy, copies: 2, kioskId: 'kiosk-a', code: 'printer.jam', voidedAt: '2026-11-02T01:01:00.000Z',
      });
    }
    const again = { issuanceId: 'req-1', operatorId: 'op-1', kioskId: 'kiosk-a', serials: ['req-1-1', 'req-1-2'], code: 'cash.fault', voidedAt: '2026-11-02T02:00:00.000Z' };
    assert.deepEqual(world.store.recordVoidedSerials(again, '2026-11-02T02:00:01.000Z'), { inserted: 0 });
    assert.deepEqual(world.store.findVoidedSerial('req-1-1'), { serial: 'req-1-1', issuanceId: 'req-1', code: 'printer.jam', voidedAt: '2026-11-02T01:01:00.000Z' });
  });

  it('answers issued and refunded for serials no misprint voided', async () => {
    world.service.recordCompletion(KIOSK_A, { ...refunded, voided: undefined });
    assert.equal(world.service.serialStatus('req-1-2').status, 'refunded');
    const { sessionToken } = await logIn(world, 'aa01');
    await world.service.requestCertificate(KIOSK_A, { kioskId: 'kiosk-a', sessionToken, requestId: 'req-2', certificateType: 'juminhyo', copies: 1 });
    world.service.recordCompletion(KIOSK_A, { ...refunded, issuanceId: 'req-2', copies: 1, feeYen: 300, outcome: 'issued', voided: undefined });
    assert.equal(world.service.serialStatus('req-2-1').status, 'issued');
  });
});

}

describe('centre: completion notices', () => {
  let world: World;
  beforeEach(async () => {
    world = makeWorld();
    const { sessionToken } = await logIn(world, 'aa01');
    await world.service.requestCertificate(KIOSK_A, { kioskId: 'kiosk-a', sessionToken, requestId: 'req-1', certificateType: 'juminhyo', copies: 2 });
  });

  const issued: CompletionNotice = completionOfReq1({ copies: 2, feeYen: 600, outcome: 'issued' });

  it('records a notice once, in UTC, and acknowledges an exact repeat as a duplicate', async () => {
    assert.deepEqual(world.service.recordCompletion(KIOSK_A, issued), { issuanceId: 'req-1', duplicate: false });
    assert.deepEqual(world.service.recordCompletion(KIOSK_A, issued), { issuanceId: 'req-1', duplicate: true });
    // The same instant written in UTC is the same notice.
    assert.deepEqual(world.service.recordCompletion(KIOSK_A, { ...issued, issuedAt: '2026-11-02T01:01:00Z' }), { issuanceId: 'req-1', duplicate: true });
    assert.deepEqual([...world.store.completions.values()], [
      {
        issuanceId: 'req-1',
        issuedAt: '2026-11-02T01:01:00.000Z',
        operatorId: 'op-1',
        storeId: 'store-01',
        kioskId: 'kiosk-a',
        municipalityCode: '131016',
        certificateType: 'juminhyo',
        copies: 2,
        feeYen: 600,
      },
    ]);
  });

  it('settles a notice dated in a confirmed month (by its JST date) as an adjustment in the next open month, once', async () => {
    world.store.confirmedMonths.add('2026-11');
    world.store.confirmedMonths.add('op-1/2026-12');
    // 2026-10-31T15:30Z is already November in JST.
    const late = { ...issued, issuedAt: '2026-10-31T15:30:00Z' };
    assert.deepEqual(world.service.recordCompletion(KIOSK_A, late), { issuanceId: issued.issuanceId, duplicate: false, adjustment: { originalMonth: '2026-11', settleMonth: '2027-01' } });
    assert.deepEqual(world.service.recordCompletion(KIOSK_A, late), { issuanceId: issued.issuanceId, duplicate: true, adjustment: { originalMonth: '2026-11', settleMonth: '2027-01' } });
    refusedWith(() => world.service.recordCompletion(KIOSK_A, { ...late, issuedAt: '2026-11-03T01:00:00Z' }), 'conflict', 'completion.conflict');
    assert.equal(world.store.completions.size, 0);
    assert.deepEqual([...world.store.adjustments.values()].map((line) => [line.issuanceId, line.kind, line.originalMonth, line.settleMonth, line.copies, line.feeYen]), [
      [issued.issuanceId, 'late-notice', '2026-11', '2027-01', issued.copies, issued.feeYen],
    ]);
  });

  it('records a correction of copies and fee once, within what was requested; in a confirmed month it becomes an adjustment of the next open month', async () => {
    world.service.recordCompletion(KIOSK_A, issued);
    const correction = { correctionId: 'fix-1', issuanceId: 'req-1', correctedAt: '2026-11-03T09:00:00+09:00', storeId: 'store-01', kioskId: 'kiosk-a', copies: 1, feeYen: 300, reason: 'misprint-found' as const };
    assert.deepEqual(world.service.recordCorrection(KIOSK_A, correction), { issuanceId: 'req-1', duplicate: false });
    assert.deepEqual(world.service.recordCorrection(KIOSK_A, correction), { issuanceId: 'req-1', duplicate: true });
    assert.deepEqual(world.store.corrections.get('fix-1'), { correctionId: 'fix-1', issuanceId: 'req-1', correctedAt: '2026-11-03T00:00:00.000Z', copies: 1, feeYen: 300, reason: 'misprint-found' });
    refusedWith(() => world.service.recordCorrection(KIOSK_A, { ...correction, copies: 0, feeYen: 0 }), 'conflict', 'correction.conflict');
    refusedWith(() => world.service.recordCorrection(KIOSK_A, { ...correction, correctionId: 'fix-2', copies: 3, feeYen: 900 }), 'input', 'correction.inconsistent');
    refusedWith(() => world.service.recordCorrection(KIOSK_A, { ...correction, correctionId: 'fix-3', feeYen: 250 }), 'input', 'correction.inconsistent');
    refusedWith(() => world.service.recordCorrection(KIOSK_A, { ...correction, correctionId: 'fix-4', issuanceId: 'req-unknown' }), 'refused', 'correction.unknown_record');
    // November is confirmed: November stays as agreed, and what comes off is settled in December.
    world.store.confirmedMonths.add('2026-11');
    const afterLock = { ...correction, correctionId: 'fix-5', correctedAt: '2026-12-01T10:00:00+09:00', copies: 0, feeYen: 0 };
    assert.deepEqual(world.service.recordCorrection(KIOSK_A, afterLock), { issuanceId: 'req-1', duplicate: false, adjustment: { originalMonth: '2026-11', settleMonth: '2026-12' } });
    assert.deepEqual(world.service.recordCorrection(KIOSK_A, afterLock), { issuanceId: 'req-1', duplicate: true, adjustment: { originalMonth: '2026-11', settleMonth: '2026-12' } });
    assert.deepEqual(
      world.store.correctionAdjustments.map((line) => [line.correctionId, line.originalMonth, line.settleMonth, line.copies, line.copiesDelta, line.feeDeltaYen]),
      [['fix-5', '2026-11', '2026-12', 0, -1, -300]],
    );
    assert.equal(world.store.corrections.has('fix-5'), false, 'the confirmed month itself is not changed');
    // Copies only go down: a correction after the lock that would raise them back is refused.
    refusedWith(() => world.service.recordCorrection(KIOSK_A, { ...afterLock, correctionId: 'fix-6', copies: 2, feeYen: 600 }), 'input', 'correction.raises_copies');
  });

  it('refuses a different notice for an id already recorded, as a conflict', async () => {
    world.service.recordCompletion(KIOSK_A, issued);
    refusedWith(() => world.service.recordCompletion(KIOSK_A, { ...issued, issuedAt: '2026-11-02T10:02:00+09:00' }), 'conflict', 'completion.conflict');
    refusedWith(() => world.service.recordCompletion(KIOSK_A, { ...issued, copies: 0, feeYen: 0, outcome: 'refunded' }), 'conflict', 'completion.conflict');
  });

  it('rejects a notice whose copies, fee, type, municipality or store disagree with the request', async () => {
    const wrong: Partial<CompletionNotice>[] = [
      { copies: 1, feeYen: 300 },
      { feeYen: 500 },
      { copies: 0 },
      { certificateType: 'inkan' },
      { municipalityCode: '372013' },
      { storeId: 'store-02' },
      { outcome: 'refunded' },
    ];
    for (const overrides of wrong) {
      refusedWith(() => world.service.recordCompletion(KIOSK_A, { ...issued, ...overrides }), 'input', 'completion.inconsistent');
    }
    assert.equal(world.store.completions.size, 0);
  });

  it('accepts a refunded notice with 0 copies and 0 yen', async () => {
    const refunded: CompletionNotice = { ...issued, copies: 0, feeYen: 0, outcome: 'refunded' };
    assert.deepEqual(world.service.recordCompletion(KIOSK_A, refunded), { issuanceId: 'req-1', duplicate: false });
    assert.deepEqual(
      { copies: world.store.completions.get('req-1')!.copies, feeYen: world.store.completions.get('req-1')!.feeYen },
      { copies: 0, feeYen: 0 },
    );
  });

  it('refuses a notice from an unknown operator, another kiosk, or for an unknown request', async () => {
    refusedWith(() => world.service.recordCompletion({ ...KIOSK_A, operatorId: 'op-unknown' }, issued), 'unauthorized', 'center.operator_unknown');
    refusedWith(() => world.service.recordCompletion(KIOSK_B, { ...issued, kioskId: 'kiosk-b' }), 'refused', 'completion.unknown_request');
    refusedWith(() => world.service.recordCompletion(KIOSK_A, { ...issued, issuanceId: 'req-404' }), 'refused', 'completion.unknown_request');
  });
});

describe('centre (PostgreSQL store): two centre processes on one database', () => {
  it('carries a session begun at one centre on at the other, and a request retried at the other gets the same answer', async () => {
    postgres.emptyTables('contract');
    const first = storeWorld(postgresUrl, () => undefined);
    const second = storeWorld(postgresUrl, () => undefined, 100);
    try {
      const challenge = first.service.issueChallenge(KIOSK_A, { kioskId: 'kiosk-a' });
      const body = authenticateBody(KIOSK_A, challenge, 'serial:aa01');
      const session = await second.service.authenticate(KIOSK_A, body);
      // The relay sent the same answer again to the first centre (the second's answer was lost): the same session.
      assert.equal((await first.service.authenticate(KIOSK_A, body)).sessionToken, session.sessionToken);
      const request = { kioskId: 'kiosk-a', sessionToken: session.sessionToken, requestId: 'req-1', certificateType: 'juminhyo' as CertificateType, copies: 2 };
      const certified = await first.service.requestCertificate(KIOSK_A, request);
      assert.deepEqual(await second.service.requestCertificate(KIOSK_A, request), certified);
      const notice = completionOfReq1({ copies: 2, feeYen: 600, outcome: 'issued' });
      assert.deepEqual(second.service.recordCompletion(KIOSK_A, notice), { issuanceId: 'req-1', duplicate: false });
      assert.deepEqual(first.service.recordCompletion(KIOSK_A, notice), { issuanceId: 'req-1', duplicate: true });
      // A new challenge at either centre ends the kiosk's unused one at the other.
      const older = second.service.issueChallenge(KIOSK_A, { kioskId: 'kiosk-a' });
      first.service.issueChallenge(KIOSK_A, { kioskId: 'kiosk-a' });
      await rejectsWith(() => second.service.authenticate(KIOSK_A, authenticateBody(KIOSK_A, older, 'serial:aa01')), 'refused', 'auth.challenge_unknown');
    } finally {
      first.close();
      second.close();
    }
  });
});
