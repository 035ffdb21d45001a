// Proves what the relay refuses before anything reaches the centre (core/relay-service.ts): a kiosk
// not registered, inactive, in another store or of another operator (audited as kiosk.refused); a
// path it does not forward; a body naming another kiosk or store; a different store day for the
// same date; a heartbeat without an audit key. What it forwards it records, and a centre that does
// not answer is a relay.fault entry.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { AuditEvent } from '../../core/audit-entry.ts';
import type { HandlingCorrection, RecordResult } from '../../core/handling-record.ts';
import type { HandlingRecord } from '../../core/messages.ts';
import { AppError } from '../../core/errors.ts';
import { createMerkleHasher } from '../../core/merkle.ts';
import { createRelayService, type NoticeReadTally, type RegisteredKiosk, type StoreDay } from '../../core/relay-service.ts';
import { KIOSK_PATHS } from '../../core/messages.ts';
import type { OperatorNotice } from '../../core/service-notices.ts';

const KIOSK = { kioskId: 'K0001', storeId: 'S0001', operatorId: 'OP01' };

function world(options: { upstreamFails?: boolean; noticeReads?: NoticeReadTally } = {}) {
  const kiosks: RegisteredKiosk[] = [
    { kioskId: 'K0001', storeId: 'S0001', active: true },
    { kioskId: 'K0009', storeId: 'S0001', active: false },
  ];
  const audit: AuditEvent[] = [];
  const sent: string[] = [];
  /** The body text each forwarded request carried, when the caller gave one. */
  const texts: (string | undefined)[] = [];
  const records: HandlingRecord[] = [];
  const days = new Map<string, StoreDay>();
  const seen: string[] = [];
  const operatorNotices: OperatorNotice[] = [];
  const clock = { atMs: Date.parse('2026-11-02T01:00:00Z') };
  const service = createRelayService({
    ...(options.noticeReads === undefined ? {} : { noticeReads: options.noticeReads }),
    operatorId: 'OP01',
    clock: { nowMs: () => clock.atMs },
    audit: { append: (...events) => void audit.push(...events) },
    witness: { hasher: createMerkleHasher(() => new Uint8Array(32)), noteVerifierFor: () => ({ name: 'x', keyId: new Uint8Array(4), verify: () => false }) as never },
    upstream: {
      post: async (path, _body, _kiosk, text) => {
        if (options.upstreamFails) throw new AppError('unavailable', 'transport.timeout', 'no answer');
        sent.push(path);
        texts.push(text);
        const body = path === KIOSK_PATHS.notices ? { notices: [{ noticeId: 'c'.repeat(32), kind: 'maintenance', startsAtMs: 1, endsAtMs: 9e15, message: 'センター保守' }] } : {};
        return { status: 200, body: new TextEncoder().encode(JSON.stringify(body)) };
      },
    },
    store: {
      operatorNotices: () => operatorNotices,
      findKiosk: (kioskId) => kiosks.find((kiosk) => kiosk.kioskId === kioskId),
      noteKioskSeen: (kioskId, atIso) => void seen.push(`${kioskId} ${atIso}`),
      recordOperatorRecord(record): RecordResult {
        records.push(record);
        return 'inserted';
      },
      recordOperatorCorrection: (_correction: HandlingCorrection): RecordResult => 'inserted',
      latestWitnessed: () => undefined,
      saveFault: (): RecordResult => 'inserted',
      saveStoreDay(day): RecordResult {
        const before = days.get(day.businessDate);
        if (!before) {
          days.set(day.businessDate, day);
          return 'inserted';
        }
        return JSON.stringify(before) === JSON.stringify(day) ? 'duplicate' : 'conflict';
      },
      saveWitnessed: () => undefined,
      noteWitnessed: () => undefined,
      noteWitnessFailure: () => undefined,
      revokeKiosk: () => assert.fail('no test here decommissions a kiosk'),
      revocationOf: () => undefined,
    },
  });
  return { service, audit, sent, texts, records, seen, clock, operatorNotices };
}

async function refusedWith(code: string, work: () => unknown): Promise<void> {
  await assert.rejects(async () => work(), (error: unknown) => error instanceof AppError && error.code === code);
}

const notice = { issuanceId: 'R1', issuedAt: '2026-11-02T01:00:00Z', storeId: 'S0001', kioskId: 'K0001', municipalityCode: '131016', certificateType: 'juminhyo', copies: 1, feeYen: 300, outcome: 'issued' };
const day = { kioskId: 'K0001', storeId: 'S0001', businessDate: '2026-11-02', cashYen: 300, transactions: 1, documents: 1, closedAt: '2026-11-02T12:00:00Z' };

describe('relay refusals', () => {
  let relay: ReturnType<typeof world>;
  beforeEach(() => {
    relay = world();
  });

  it('refuses a kiosk not registered, inactive, in another store or of another operator, and audits it', async () => {
    for (const identity of [{ ...KIOSK, kioskId: 'K0404' }, { ...KIOSK, kioskId: 'K0009' }, { ...KIOSK, storeId: 'S0002' }, { ...KIOSK, operatorId: 'OP02' }]) {
      await refusedWith('relay.kiosk_unregistered', () => relay.service.forward('/v1/notices', { kioskId: identity.kioskId }, identity));
    }
    assert.deepEqual(relay.audit.map((event) => event.kind), ['kiosk.refused', 'kiosk.refused', 'kiosk.refused', 'kiosk.refused']);
    assert.deepEqual(relay.sent, []);
  });

  it("adds the operator's own notices that have not ended to the centre's notices for the kiosk (Spec§7-4)", async () => {
    const { service, clock, operatorNotices } = world();
    const own = (noticeId: string, startsAtMs: number, endsAtMs: number): OperatorNotice => ({ noticeId, operatorId: 'OP01', kind: 'stop', startsAtMs, endsAtMs, message: '事業者のシステム障害', emergency: false });
    operatorNotices.push(own('a'.repeat(32), clock.atMs - 60_000, clock.atMs + 60_000), own('b'.repeat(32), clock.atMs - 120_000, clock.atMs - 60_000));
    const answer = await service.forward(KIOSK_PATHS.notices, { kioskId: 'K0001' }, KIOSK);
    const notices = (JSON.parse(new TextDecoder().decode(answer.body)) as { notices: { noticeId: string; kind: string; message: string }[] }).notices;
    assert.deepEqual(notices.map((notice) => [notice.noticeId[0], notice.kind, notice.message]), [['c', 'maintenance', 'センター保守'], ['a', 'stop', '事業者のシステム障害']]);
    const other = await service.forward(KIOSK_PATHS.authenticate, { kioskId: 'K0001' }, KIOSK);
    assert.equal(new TextDecoder().decode(other.body), '{}', 'other answers pass as they came');
  });

  it("counts the kiosks' fetches of the public notices where it is given a tally, and audits every other request", async () => {
    const counted: string[] = [];
    const { service, audit } = world({ noticeReads: { note: (kioskId) => void counted.push(kioskId) } });
    await service.forward(KIOSK_PATHS.notices, { kioskId: 'K0001' }, KIOSK);
    await service.forward(KIOSK_PATHS.notices, { kioskId: 'K0001' }, KIOSK);
    await service.forward(KIOSK_PATHS.challenge, { kioskId: 'K0001' }, KIOSK);
    assert.deepEqual(counted, ['K0001', 'K0001']);
    assert.deepEqual(audit.filter((event) => event.kind === 'request.forwarded').map((event) => (event.data as { path: string }).path), [KIOSK_PATHS.challenge]);
  });

  it("starts no new session during the operator's own stop or maintenance, and lets sessions under way and notices through (Spec§7-4)", async () => {
    const { service, clock, operatorNotices, sent } = world();
    const own = (kind: 'stop' | 'maintenance', startsAtMs: number, endsAtMs: number): OperatorNotice => ({ noticeId: `${kind[0]}`.repeat(32), operatorId: 'OP01', kind, startsAtMs, endsAtMs, message: '事業者の都合', emergency: true });
    // Ended a minute ago, or starting in one: nothing stops.
    operatorNotices.push(own('stop', clock.atMs - 120_000, clock.atMs - 60_000), own('maintenance', clock.atMs + 60_000, clock.atMs + 120_000));
    await service.forward(KIOSK_PATHS.challenge, { kioskId: 'K0001' }, KIOSK);
    operatorNotices.push(own('stop', clock.atMs, clock.atMs + 60_000));
    await refusedWith('relay.operator_stopped', () => service.forward(KIOSK_PATHS.challenge, { kioskId: 'K0001' }, KIOSK));
    for (const path of [KIOSK_PATHS.authenticate, KIOSK_PATHS.certificates, KIOSK_PATHS.notices]) await service.forward(path, { kioskId: 'K0001' }, KIOSK);
    await service.forward(KIOSK_PATHS.completions, notice, KIOSK);
    clock.atMs += 60_000; // the stop has ended; the maintenance window has begun
    await refusedWith('hours.maintenance', () => service.forward(KIOSK_PATHS.challenge, { kioskId: 'K0001' }, KIOSK));
    clock.atMs += 60_000;
    await service.forward(KIOSK_PATHS.challenge, { kioskId: 'K0001' }, KIOSK);
    assert.deepEqual(sent, [KIOSK_PATHS.challenge, KIOSK_PATHS.authenticate, KIOSK_PATHS.certificates, KIOSK_PATHS.notices, KIOSK_PATHS.completions, KIOSK_PATHS.challenge]);
  });

  it('forwards only the kiosk paths, and only for the kiosk the certificate names', async () => {
    await refusedWith('relay.no_route', () => relay.service.forward('/v1/relay-heartbeat', { kioskId: 'K0001' }, KIOSK));
    await refusedWith('relay.kiosk_mismatch', () => relay.service.forward('/v1/notices', { kioskId: 'K0002' }, KIOSK));
    await refusedWith('relay.store_mismatch', () => relay.service.forward('/v1/completions', { ...notice, storeId: 'S0002' }, KIOSK));
    assert.deepEqual([relay.sent, relay.records], [[], []]);
    await relay.service.forward('/v1/completions', notice, KIOSK);
    assert.deepEqual(relay.sent, ['/v1/completions']);
    assert.equal(relay.records.length, 1, "the operator's record is kept before forwarding");
    assert.equal(relay.audit.at(-1)!.kind, 'request.forwarded');
  });

  it("forwards the kiosk's body text as it came once its value passed the checks, and refuses it as before when it names another kiosk", async () => {
    const text = `{ "kioskId" : "K0001",\n  "requestId": "r\\u0031" }`;
    await relay.service.forward(KIOSK_PATHS.certificates, JSON.parse(text), KIOSK, text);
    const other = `{"kioskId":"K0002"}`;
    await refusedWith('relay.kiosk_mismatch', () => relay.service.forward(KIOSK_PATHS.certificates, JSON.parse(other), KIOSK, other));
    await relay.service.forward(KIOSK_PATHS.authenticate, { kioskId: 'K0001' }, KIOSK);
    assert.deepEqual(relay.texts, [text, undefined], 'the same characters, not a re-serialised value; none given, none passed');
  });

  it('records a centre that does not answer as a relay.fault, and passes the error on', async () => {
    const down = world({ upstreamFails: true });
    await refusedWith('transport.timeout', () => down.service.forward('/v1/completions', notice, KIOSK));
    assert.equal(down.audit.at(-1)!.kind, 'relay.fault');
    assert.equal(down.records.length, 1, 'the operator record stays: the kiosk will resend, the relay de-duplicates');
  });

  it('keeps one store day per date: the same again is a duplicate, other figures a conflict, another kiosk a mismatch', async () => {
    assert.deepEqual(relay.service.storeDay(KIOSK, day), { businessDate: '2026-11-02', duplicate: false });
    assert.deepEqual(relay.service.storeDay(KIOSK, day), { businessDate: '2026-11-02', duplicate: true });
    await refusedWith('store_day.conflict', () => relay.service.storeDay(KIOSK, { ...day, cashYen: 500 }));
    await refusedWith('relay.kiosk_mismatch', () => relay.service.storeDay(KIOSK, { ...day, kioskId: 'K0002' }));
    await refusedWith('request.bad_field', () => relay.service.storeDay(KIOSK, { ...day, businessDate: '2026-02-30' }));
  });

  it('refuses a heartbeat for a kiosk with no audit key registered, or naming another kiosk', async () => {
    const offer = { kioskId: 'K0001', checkpointNote: 'x', fromSize: 0, consistencyProof: [] };
    await refusedWith('witness.no_key', () => relay.service.heartbeat(KIOSK, offer));
    await refusedWith('relay.kiosk_mismatch', () => relay.service.heartbeat(KIOSK, { ...offer, kioskId: 'K0002' }));
  });

  it('writes when a kiosk was last seen at most once a minute, and again after a minute or a clock set back', async () => {
    await relay.service.forward('/v1/notices', { kioskId: 'K0001' }, KIOSK);
    relay.clock.atMs += 59_999;
    await relay.service.forward('/v1/notices', { kioskId: 'K0001' }, KIOSK);
    relay.clock.atMs += 1;
    await relay.service.forward('/v1/notices', { kioskId: 'K0001' }, KIOSK);
    relay.clock.atMs -= 1_000;
    await relay.service.forward('/v1/notices', { kioskId: 'K0001' }, KIOSK);
    assert.deepEqual(relay.seen, ['K0001 2026-11-02T01:00:00.000Z', 'K0001 2026-11-02T01:01:00.000Z', 'K0001 2026-11-02T01:00:59.000Z']);
    assert.deepEqual(relay.sent, ['/v1/notices', '/v1/notices', '/v1/notices', '/v1/notices']);
  });
});
