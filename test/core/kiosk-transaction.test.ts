// Proves a kiosk transaction, driven against a real in-process centre, a simulated card, cash unit and folder printer, prints only certificate data bound to its own request, takes the fee only when every copy printed, and refunds and voids on every abort.
import { discardAudit } from '../../core/audit-entry.ts';
import { createMerkleHasher } from '../../core/merkle.ts';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCenterService } from '../../core/center-service.ts';
import type { CallerIdentity } from '../../core/caller.ts';
import type { CertificateType } from '../../core/certificate-types.ts';
import type { AuditEvent } from '../../core/audit-entry.ts';
import { sendPendingNotices, type Outbox, type OutboxNotice } from '../../core/outbox.ts';
import {
  runKioskTransaction,
  type VoidSlip,
  type KioskGateway,
  type KioskInput,
  type KioskLedger,
  type KioskTransactionRecord,
  type Receipt,
  type TransactionResult,
} from '../../core/kiosk-transaction.ts';
import {
  parseAuthenticateRequest,
  parseCertificateData,
  parseCertificateRequest,
  parseCompletionNotice,
  parseCorrectionNotice,
  type CertificateData,
  type CompletionNotice,
} from '../../core/messages.ts';
import type { Municipality } from '../../core/municipality.ts';
import type { Denomination } from '../../core/ports.ts';
import type { Resident } from '../../core/resident.ts';
import { refusalText, SCREEN } from '../../core/screen-text.ts';
import { readCardFile, writeCardFile } from '../../drivers/card/card-file.ts';
import { acceptedCardKinds, type CardKind } from '../../core/jpki.ts';
import { SimulatedCardReader } from '../../drivers/card/simulated-reader.ts';
import { SimulatedCashUnit, type SimulatedCashUnitOptions } from '../../drivers/cash/simulated-cash-unit.ts';
import { createCertificateAuthority, createCrl, issueCertificate, type KeyAndCertificate } from '../../drivers/pki/issue.ts';
import { createCardVerifier } from '../../drivers/pki/verify.ts';
import { FolderPrinter, type FolderPrinterFaults } from '../../drivers/printer/folder-printer.ts';
import { memoryCenterStore, testResident } from './center-fixture.ts';
import { testRsaKey } from '../rsa-keys.ts';

const NOW_MS = Date.parse('2026-11-02T10:00:00+09:00');
const CARD_SERIAL_HEX = '1a2b3c';
const PIN = '1234';
const KIOSK: CallerIdentity = { operatorId: 'op-1', storeId: 'store-01', kioskId: 'kiosk-001' };

const CHIYODA: Municipality = {
  code: '131016',
  name: '千代田区',
  mayorTitle: '千代田区長',
  participating: true,
  maxCopiesPerType: 10,
  offers: [
    { type: 'juminhyo', unitFeeYen: 300 },
    { type: 'inkan', unitFeeYen: 300 },
  ],
};

// Registered a seal, so an 印鑑登録証明書 has its number to show (core/resident.ts refuses one without).
const RESIDENT: Resident = testResident('R1', { sealRegistrationNumber: '131016-00001' });

/** One page as the folder printer counts pages; the label tells the jobs apart. */
function stubPdf(label: string): Uint8Array {
  return new TextEncoder().encode(`%PDF-1.4\n1 0 obj << /Type /Page >> endobj\n% ${label}\n%%EOF\n`);
}

function counterRandom(seed: number) {
  let counter = seed;
  return {
    bytes(length: number): Uint8Array {
      counter += 1;
      return Uint8Array.from({ length }, (_, index) => (counter * 31 + index) & 0xff);
    },
  };
}

/** A cash unit that also remembers what it handed back. */
class RecordingCashUnit extends SimulatedCashUnit {
  readonly refunds: number[] = [];
  override async refundAll(): Promise<{ refundedYen: number }> {
    const result = await super.refundAll();
    this.refunds.push(result.refundedYen);
    return result;
  }
}

interface Script {
  pins?: (string | undefined)[];
  choice?: { certificateType: CertificateType; copies: number };
  cash?: (Denomination | undefined)[];
}

interface Kiosk {
  run(script: Script): Promise<TransactionResult>;
  cash: RecordingCashUnit;
  printer: FolderPrinter;
  ledger: { record: KioskTransactionRecord; notice: CompletionNotice }[];
  /** What the kiosk reported through its fault port (docs/alerts.md). */
  faults: { code: string; requestId?: string }[];
  screen: string[];
  receipts: Receipt[];
  voidNotices: { requestId: string; serials: string[] }[];
  audit: AuditEvent[];
  asked: { pins: number; menus: number; cash: number };
  /** Sends a queued notice to the centre, as the outbox would. */
  deliver(notice: CompletionNotice): ReturnType<KioskGateway['sendCompletion']>;
  /** Sends what the ledger queued through the kiosk's outbox (core/outbox.ts); says how many were acknowledged. */
  flushOutbox(): Promise<number>;
  /** What the centre answers about a serial. */
  serialStatus(serial: string): string;
  printedFiles(): string[];
}

describe('runKioskTransaction', () => {
  let directory: string;
  let cardAuthority: KeyAndCertificate;
  let cardCertificateDerBase64: string;
  let cardPrivateKeyPem: string;
  let crlPem: string;
  let kioskNumber = 0;

  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'cvs-kiosk-transaction-'));
    cardAuthority = createCertificateAuthority({
      subject: { commonName: 'JPKI test user authentication CA', country: 'JP' },
      validFrom: new Date('2025-01-01T00:00:00Z'),
      validTo: new Date('2035-01-01T00:00:00Z'),
      keyPair: testRsaKey(0),
    });
    const keys = testRsaKey(1);
    cardPrivateKeyPem = keys.privateKeyPem;
    const certificate = issueCertificate(cardAuthority, {
      subject: { commonName: 'card holder', country: 'JP' },
      usage: 'card-auth',
      validFrom: new Date('2026-01-01T00:00:00Z'),
      validTo: new Date('2031-01-01T00:00:00Z'),
      serialHex: CARD_SERIAL_HEX,
      publicKeyPem: keys.publicKeyPem,
    });
    cardCertificateDerBase64 = certificate.certificatePem.replace(/-----[^-]+-----|\s/g, '');
    crlPem = createCrl(cardAuthority, {
      revoked: [],
      thisUpdate: new Date('2026-11-01T00:00:00Z'),
      nextUpdate: new Date('2026-12-01T00:00:00Z'),
    });
  });
  after(() => rmSync(directory, { recursive: true, force: true }));

  let cardPath: string;
  beforeEach(() => {
    kioskNumber += 1;
    cardPath = join(directory, `card-${kioskNumber}.json`);
    writeCardFile(cardPath, {
      version: 1,
      cardId: `card-${kioskNumber}`,
      kind: 'my-number-card',
      authCertificateDerBase64: cardCertificateDerBase64,
      authPrivateKeyPem: cardPrivateKeyPem,
      pin: PIN,
      pinTriesLeft: 3,
    });
  });

  function makeKiosk(
    options: {
      cash?: SimulatedCashUnitOptions;
      printerFaults?: FolderPrinterFaults;
      tamper?: (data: CertificateData) => CertificateData;
      /** The token the card carries (default the My Number card's), and what the kiosk takes. */
      cardKind?: CardKind;
      acceptedCardKinds?: readonly CardKind[];
    } = {},
  ): Kiosk {
    if (options.cardKind) writeCardFile(cardPath, { ...readCardFile(cardPath), kind: options.cardKind });
    const centreStore = memoryCenterStore([KIOSK.operatorId]);
    const centre = createCenterService({
      clock: { nowMs: () => NOW_MS },
      audit: discardAudit,
      witness: { hasher: createMerkleHasher((data) => new Uint8Array(createHash('sha256').update(data).digest())), noteVerifierFor: () => { throw new Error('no relay keys in this test'); } },
      random: counterRandom(1000),
      store: centreStore,
      directory: {
        findMunicipality: (code) => (code === CHIYODA.code ? CHIYODA : undefined),
        findResidentByCardSerial: async (serialHex) => (serialHex === CARD_SERIAL_HEX ? RESIDENT : undefined),
        findResident: async (residentId) => (residentId === RESIDENT.residentId ? RESIDENT : undefined),
      },
      verifier: createCardVerifier({ caCertificatePem: cardAuthority.certificatePem, crlPem }),
      isHoliday: () => false,
      renderCertificate: async (content) => content.serials.map((serial) => stubPdf(`certificate ${serial}`)),
      sha256Hex: (data) => createHash('sha256').update(data).digest('hex'),
    });
    // The relay in miniature: bodies pass the same parsers the HTTP adapters use.
    const gateway: KioskGateway = {
      challenge: async () => centre.issueChallenge(KIOSK, { kioskId: KIOSK.kioskId }),
      authenticate: async (request) => centre.authenticate(KIOSK, parseAuthenticateRequest({ kioskId: KIOSK.kioskId, ...request })),
      requestCertificate: async (request) => {
        const data = await centre.requestCertificate(KIOSK, parseCertificateRequest({ kioskId: KIOSK.kioskId, ...request }));
        return parseCertificateData(options.tamper ? options.tamper(data) : data);
      },
      sendCompletion: async (notice) => centre.recordCompletion(KIOSK, parseCompletionNotice(JSON.parse(JSON.stringify(notice)))),
      sendCorrection: async (notice) => centre.recordCorrection(KIOSK, parseCorrectionNotice(JSON.parse(JSON.stringify(notice)))),
    };
    const reader = new SimulatedCardReader('test reader');
    reader.place(cardPath);
    const cash = new RecordingCashUnit(options.cash);
    const printDirectory = join(directory, `printer-${kioskNumber}`);
    const printer = new FolderPrinter({ directory: printDirectory, faults: options.printerFaults });
    const ledgerEntries: Kiosk['ledger'] = [];
    const faults: Kiosk['faults'] = [];
    // The kiosk store's outbox in memory: the notice is queued with the record, in one step.
    const queued = new Map<string, { notice: OutboxNotice; acknowledged: boolean }>();
    const ledger: KioskLedger = {
      recordTransaction: (record, notice) => {
        ledgerEntries.push({ record, notice });
        queued.set(notice.issuanceId, { notice, acknowledged: false });
      },
    };
    const outbox: Outbox = {
      pendingNotices: (limit) => [...queued.values()].filter((entry) => !entry.acknowledged).slice(0, limit),
      markAcknowledged: (key) => void (queued.get(key)!.acknowledged = true),
      markAttemptFailed: () => undefined,
      markRejected: () => undefined,
    };
    const audit: AuditEvent[] = [];
    const screen: string[] = [];
    const receipts: Receipt[] = [];
    const voidNotices: Kiosk['voidNotices'] = [];
    const asked = { pins: 0, menus: 0, cash: 0 };
    const deps = {
      identity: { kioskId: KIOSK.kioskId, storeId: KIOSK.storeId, storeName: 'テスト店' },
      ...(options.acceptedCardKinds ? { acceptedCardKinds: options.acceptedCardKinds } : {}),
      clock: { nowMs: () => NOW_MS + 60_000 },
      random: counterRandom(0),
      reader,
      cash,
      printer,
      gateway,
      ledger,
      audit: { append: (...events: AuditEvent[]) => void audit.push(...events) },
      faults: { report: (fault: { code: string; requestId?: string }) => void faults.push(fault) },
      screen: { show: (text: string) => void screen.push(text) },
      sha256: (data: Uint8Array) => new Uint8Array(createHash('sha256').update(data).digest()),
      renderReceipt: async (receipt: Receipt) => {
        receipts.push(receipt);
        return stubPdf(`receipt ${receipt.requestId}`);
      },
      renderVoidNotice: async (input: VoidSlip) => {
        voidNotices.push({ requestId: input.requestId, serials: input.serials });
        return stubPdf(`void ${input.requestId}`);
      },
    };
    return {
      cash,
      printer,
      faults,
      ledger: ledgerEntries,
      screen,
      receipts,
      voidNotices,
      audit,
      asked,
      deliver: (notice) => gateway.sendCompletion(notice),
      flushOutbox: () => sendPendingNotices({ outbox, send: (notice) => ('correctionId' in notice ? gateway.sendCorrection(notice) : gateway.sendCompletion(notice)), clock: { nowMs: () => NOW_MS } }),
      serialStatus: (serial) => centre.serialStatus(serial).status,
      printedFiles: () => {
        try {
          return readdirSync(printDirectory).sort();
        } catch {
          return [];
        }
      },
      run(script) {
        const pins = [...(script.pins ?? [PIN])];
        const cashSteps = [...(script.cash ?? [])];
        const input: KioskInput = {
          enterPin: async () => {
            asked.pins += 1;
            assert.ok(pins.length > 0, 'the kiosk asked for more PINs than the script has');
            return pins.shift();
          },
          chooseCertificate: async () => {
            asked.menus += 1;
            return script.choice;
          },
          nextCash: async () => {
            asked.cash += 1;
            assert.ok(cashSteps.length > 0, 'the kiosk asked for more cash than the script has');
            return cashSteps.shift();
          },
        };
        return runKioskTransaction(deps, input);
      },
    };
  }

  const twoJuminhyo = { certificateType: 'juminhyo' as const, copies: 2 };

  it('refuses a smartphone certificate before its PIN unless the deployment takes them (seed 別紙1 4(1))', async () => {
    const kiosk = makeKiosk({ cardKind: 'smartphone' });
    const result = await kiosk.run({ choice: twoJuminhyo, cash: [500, 500] });
    assert.deepEqual(result, { outcome: 'refused', code: 'card.kind_not_accepted', wrongPins: 0 });
    assert.equal(kiosk.asked.pins, 0, 'no PIN asked for');
    assert.deepEqual(kiosk.audit.slice(0, 2), [
      { kind: 'card.read', data: { cardKind: 'smartphone' } },
      { kind: 'transaction.refused', data: { code: 'card.kind_not_accepted' } },
    ]);
    assert.match(kiosk.screen.at(-1)!, /スマートフォン用電子証明書はご利用いただけません/);
    assert.deepEqual(kiosk.printedFiles(), []);
  });

  it('issues to a smartphone certificate where the deployment takes them, and its log says which token it was', async () => {
    const kiosk = makeKiosk({ cardKind: 'smartphone', acceptedCardKinds: acceptedCardKinds({ smartphoneCertificates: true }) });
    const result = await kiosk.run({ choice: twoJuminhyo, cash: [500, 500] });
    assert.equal(result.outcome, 'issued');
    assert.deepEqual(kiosk.audit[0], { kind: 'card.read', data: { cardKind: 'smartphone' } });
  });

  it('issues: prints every copy and a receipt, pays change, and records the notice the centre accepts', async () => {
    const kiosk = makeKiosk();
    const result = await kiosk.run({ choice: twoJuminhyo, cash: [500, 500] });
    assert.equal(result.outcome, 'issued');
    const { requestId } = result as { requestId: string };
    assert.deepEqual(result, { outcome: 'issued', requestId, certificateType: 'juminhyo', copies: 2, feeYen: 600, changeYen: 400, wrongPins: 0 });
    assert.deepEqual(kiosk.printedFiles(), [
      `${requestId}-certificate-copy1.pdf`,
      `${requestId}-certificate-copy2.pdf`,
      `${requestId}-receipt.pdf`,
    ]);
    assert.deepEqual(kiosk.ledger, [
      {
        record: { requestId, issuedAtMs: NOW_MS + 60_000, municipalityCode: '131016', certificateType: 'juminhyo', copies: 2, feeYen: 600, cashKeptYen: 600, outcome: 'issued' },
        notice: {
          issuanceId: requestId,
          issuedAt: '2026-11-02T01:01:00.000Z',
          storeId: 'store-01',
          kioskId: 'kiosk-001',
          municipalityCode: '131016',
          certificateType: 'juminhyo',
          copies: 2,
          feeYen: 600,
          outcome: 'issued',
        },
      },
    ]);
    assert.deepEqual(kiosk.receipts, [
      {
        storeName: 'テスト店',
        storeId: 'store-01',
        kioskId: 'kiosk-001',
        requestId,
        certificateTitle: '住民票の写し',
        copies: 2,
        unitFeeYen: 300,
        feeYen: 600,
        paidYen: 1000,
        changeYen: 400,
        issuedAtText: '2026年11月2日 10:01',
        municipalityName: '千代田区',
        createdAtMs: NOW_MS + 60_000,
      },
    ]);
    assert.equal(kiosk.cash.takenYen(), 600);
    // Spec§7-2: the hours come before the card is read, so before the PIN is asked for.
    assert.deepEqual(kiosk.screen.slice(0, 3), [SCREEN.welcome, SCREEN.hours, SCREEN.enterPin]);
    assert.match(SCREEN.hours, /毎日6:30〜23:00（12月29日〜1月3日を除く）/);
    assert.ok(kiosk.screen.includes(SCREEN.fee('住民票の写し', 2, 600)));
    assert.ok(kiosk.screen.includes(SCREEN.change(400)));
    assert.equal(kiosk.screen.at(-1), SCREEN.done);
    assert.deepEqual(await kiosk.deliver(kiosk.ledger[0]!.notice), { issuanceId: requestId, duplicate: false });
  });

  it('issues after one wrong PIN, and the card counter is full again', async () => {
    const kiosk = makeKiosk();
    const result = await kiosk.run({ pins: ['9999', PIN], choice: { certificateType: 'inkan', copies: 1 }, cash: [1000] });
    assert.deepEqual({ outcome: result.outcome, changeYen: (result as { changeYen: number }).changeYen }, { outcome: 'issued', changeYen: 700 });
    assert.ok(kiosk.screen.includes(SCREEN.wrongPin(2)));
    assert.equal(readCardFile(cardPath).pinTriesLeft, 3);
  });

  it('asks again for a PIN that is not four digits, without spending a try on the card', async () => {
    const kiosk = makeKiosk();
    const result = await kiosk.run({ pins: ['12', '12345', PIN], choice: { certificateType: 'inkan', copies: 1 }, cash: [1000] });
    assert.equal(result.outcome, 'issued');
    assert.equal(kiosk.screen.filter((line) => line === refusalText('card.pin_format')).length, 2);
    assert.equal(readCardFile(cardPath).pinTriesLeft, 3);
  });

  it('locks the card after three wrong PINs, and it stays locked for the next transaction', async () => {
    const kiosk = makeKiosk();
    assert.deepEqual(await kiosk.run({ pins: ['0000', '1111', '2222'] }), { outcome: 'refused', code: 'card.locked', wrongPins: 3 });
    assert.equal(readCardFile(cardPath).pinTriesLeft, 0);
    assert.equal(kiosk.screen.at(-1), refusalText('card.locked'));

    const next = makeKiosk();
    assert.deepEqual(await next.run({ pins: [PIN] }), { outcome: 'refused', code: 'card.locked', wrongPins: 0 });
    assert.equal(next.asked.pins, 0, 'a locked card is refused before any PIN is asked');
    assert.equal(readCardFile(cardPath).pinTriesLeft, 0);
    assert.deepEqual([kiosk.printedFiles(), kiosk.ledger, next.ledger], [[], [], []]);
  });

  it('cancels at the PIN prompt, counting a wrong PIN already entered', async () => {
    const kiosk = makeKiosk();
    assert.deepEqual(await kiosk.run({ pins: ['9999', undefined] }), { outcome: 'cancelled', wrongPins: 1 });
    assert.deepEqual([kiosk.printedFiles(), kiosk.ledger, kiosk.cash.refunds], [[], [], []]);
    assert.equal(kiosk.screen.at(-1), SCREEN.cancelled);
  });

  it('cancels at the menu without asking for money or recording anything', async () => {
    const kiosk = makeKiosk();
    assert.deepEqual(await kiosk.run({}), { outcome: 'cancelled', wrongPins: 0 });
    assert.deepEqual({ cash: kiosk.asked.cash, files: kiosk.printedFiles(), ledger: kiosk.ledger }, { cash: 0, files: [], ledger: [] });
  });

  it('cancels at the cash prompt: refunds what was inserted, prints nothing, records a refunded notice with 0 copies', async () => {
    const kiosk = makeKiosk();
    const result = await kiosk.run({ choice: twoJuminhyo, cash: [100, 50, undefined] });
    assert.deepEqual(result, { outcome: 'cancelled', wrongPins: 0 });
    assert.deepEqual(kiosk.cash.refunds, [150]);
    assert.equal(kiosk.cash.takenYen(), 0);
    assert.deepEqual(kiosk.printedFiles(), []);
    assert.equal(kiosk.ledger.length, 1);
    const { record, notice } = kiosk.ledger[0]!;
    assert.deepEqual(
      { outcome: record.outcome, copies: record.copies, feeYen: record.feeYen },
      { outcome: 'refunded', copies: 0, feeYen: 0 },
    );
    assert.deepEqual({ outcome: notice.outcome, copies: notice.copies, feeYen: notice.feeYen }, { outcome: 'refunded', copies: 0, feeYen: 0 });
    assert.deepEqual(await kiosk.deliver(notice), { issuanceId: notice.issuanceId, duplicate: false });
  });

  const tamperings: [string, (data: CertificateData) => CertificateData][] = [
    ['data for another request id', (data) => ({ ...data, requestId: 'ffffffffffffffffffffffffffffffff' })],
    ['data for another resident', (data) => ({ ...data, residentRef: '0000000000000000' })],
    ['data for another kiosk', (data) => ({ ...data, kioskId: 'kiosk-002' })],
    ['a fee that is not unit fee × copies', (data) => ({ ...data, feeYen: data.feeYen - 1 })],
    ['a copy whose hash differs from the one the centre bound', (data) => ({ ...data, pdfsBase64: [data.pdfsBase64[0]!, Buffer.from(stubPdf('someone else')).toString('base64')] })],
    ['the copies in another order (each serial is bound to its place)', (data) => ({ ...data, pdfsBase64: [...data.pdfsBase64].reverse() })],
  ];
  for (const [what, tamper] of tamperings) {
    it(`refuses ${what}: binding.mismatch, nothing printed, no money taken`, async () => {
      const kiosk = makeKiosk({ tamper });
      assert.deepEqual(await kiosk.run({ choice: twoJuminhyo, cash: [1000] }), { outcome: 'refused', code: 'binding.mismatch', wrongPins: 0 });
      assert.deepEqual(
        { files: kiosk.printedFiles(), cashAsked: kiosk.asked.cash, taken: kiosk.cash.takenYen(), held: kiosk.cash.insertedYen(), ledger: kiosk.ledger },
        { files: [], cashAsked: 0, taken: 0, held: 0, ledger: [] },
      );
      assert.equal(kiosk.screen.at(-1), refusalText('binding.mismatch'));
    });
  }

  it('refunds on a jam at copy 2 of 3: all cash back, every serial voided at the centre through the outbox, the clerk told to stamp each copy, a slip listing them', async () => {
    const kiosk = makeKiosk({ printerFaults: { jamOnPage: 2 } });
    const result = await kiosk.run({ choice: { certificateType: 'juminhyo', copies: 3 }, cash: [1000] });
    assert.equal(result.outcome, 'refunded');
    const { requestId } = result as { requestId: string };
    const serials = [1, 2, 3].map((copy) => `${requestId}-${copy}`);
    assert.deepEqual(result, { outcome: 'refunded', requestId, code: 'printer.jam', refundedYen: 1000, voidedSerials: serials, wrongPins: 0 });
    assert.deepEqual(kiosk.cash.refunds, [1000]);
    assert.equal(kiosk.cash.takenYen(), 0);
    assert.deepEqual(kiosk.voidNotices, [{ requestId, serials }]);
    assert.deepEqual(kiosk.printedFiles(), [`${requestId}-certificate-copy1.pdf`, `${requestId}-void-notice.pdf`]);
    assert.deepEqual(
      kiosk.ledger.map(({ record, notice }) => [record.outcome, record.copies, record.feeYen, notice.outcome, notice.copies, notice.feeYen, notice.voided]),
      [['refunded', 0, 0, 'refunded', 0, 0, { serials, code: 'printer.jam' }]],
    );
    assert.deepEqual(kiosk.receipts, []);
    assert.deepEqual(kiosk.screen.slice(-3), [refusalText('printer.jam'), SCREEN.refunded(1000), SCREEN.stampVoid(serials)]);
    for (const serial of serials) assert.ok(SCREEN.stampVoid(serials).includes(serial));
    assert.ok(SCREEN.stampVoid(serials).includes('「返金済・無効」'));
    assert.deepEqual(kiosk.audit.filter((event) => event.kind === 'serials.voided' || event.kind === 'misprint.voided'), [
      { kind: 'serials.voided', data: { requestId, code: 'printer.jam', count: 3 } },
      { kind: 'misprint.voided', data: { requestId, copies: 3 } },
    ]);
    assert.deepEqual(serials.map(kiosk.serialStatus), ['unconfirmed', 'unconfirmed', 'unconfirmed']);
    assert.equal(await kiosk.flushOutbox(), 1);
    assert.deepEqual(serials.map(kiosk.serialStatus), ['void', 'void', 'void']);
    assert.deepEqual(kiosk.faults, [{ requestId, code: 'printer.jam' }]);
  });

  it('voids both serials when the printer jams on copy 2 of 2, and prints the slip once it can again', async () => {
    const kiosk = makeKiosk({ printerFaults: { jamOnPage: 2 } });
    const result = await kiosk.run({ choice: twoJuminhyo, cash: [1000] });
    const { requestId } = result as { requestId: string };
    const serials = [`${requestId}-1`, `${requestId}-2`];
    assert.deepEqual(result, { outcome: 'refunded', requestId, code: 'printer.jam', refundedYen: 1000, voidedSerials: serials, wrongPins: 0 });
    assert.deepEqual(kiosk.printedFiles(), [`${requestId}-certificate-copy1.pdf`, `${requestId}-void-notice.pdf`]);
    assert.deepEqual(kiosk.voidNotices, [{ requestId, serials }]);
    assert.equal(kiosk.screen.at(-1), SCREEN.stampVoid(serials));
    assert.equal(await kiosk.flushOutbox(), 1);
    assert.deepEqual(serials.map(kiosk.serialStatus), ['void', 'void']);
  });

  it('records the void at the centre and tells the clerk even when the printer cannot print the slip', async () => {
    // Copy 1 uses the last sheet: copy 2 and the slip find the printer out of paper.
    const kiosk = makeKiosk({ printerFaults: { paperOutAfterPages: 1 } });
    const result = await kiosk.run({ choice: twoJuminhyo, cash: [1000] });
    const { requestId } = result as { requestId: string };
    const serials = [`${requestId}-1`, `${requestId}-2`];
    assert.deepEqual(result, { outcome: 'refunded', requestId, code: 'printer.paper_out', refundedYen: 1000, voidedSerials: serials, wrongPins: 0 });
    assert.deepEqual(kiosk.printedFiles(), [`${requestId}-certificate-copy1.pdf`]);
    assert.deepEqual(kiosk.screen.slice(-2), [SCREEN.stampVoid(serials), SCREEN.voidSlipFailed]);
    assert.deepEqual(kiosk.audit.filter((event) => event.kind.endsWith('.voided')), [{ kind: 'serials.voided', data: { requestId, code: 'printer.paper_out', count: 2 } }]);
    // Both faults reported (kept in the audit log and sent on to the register and maintenance): copy 2, then the slip.
    assert.deepEqual(kiosk.faults, [
      { requestId, code: 'printer.paper_out' },
      { requestId, code: 'printer.paper_out' },
    ]);
    assert.equal(await kiosk.flushOutbox(), 1);
    assert.deepEqual(serials.map(kiosk.serialStatus), ['void', 'void']);
  });

  it('refunds and voids every serial when the cash unit cannot pay the change after printing', async () => {
    const kiosk = makeKiosk({ cash: { changeStockYen: 0 } });
    const result = await kiosk.run({ choice: twoJuminhyo, cash: [1000] });
    assert.equal(result.outcome, 'refunded');
    const { requestId } = result as { requestId: string };
    const serials = [`${requestId}-1`, `${requestId}-2`];
    assert.deepEqual(result, { outcome: 'refunded', requestId, code: 'cash.no_change', refundedYen: 1000, voidedSerials: serials, wrongPins: 0 });
    assert.deepEqual({ refunds: kiosk.cash.refunds, taken: kiosk.cash.takenYen() }, { refunds: [1000], taken: 0 });
    assert.deepEqual(kiosk.voidNotices, [{ requestId, serials }]);
    assert.deepEqual(
      kiosk.ledger.map(({ notice }) => [notice.outcome, notice.copies, notice.feeYen, notice.voided]),
      [['refunded', 0, 0, { serials, code: 'cash.no_change' }]],
    );
    assert.deepEqual(kiosk.receipts, []);
    assert.deepEqual(kiosk.faults, [{ requestId, code: 'cash.no_change' }]);
    assert.equal(await kiosk.flushOutbox(), 1);
    assert.deepEqual(serials.map(kiosk.serialStatus), ['void', 'void']);
  });

  it('voids nothing when the resident cancels before anything is printed', async () => {
    const kiosk = makeKiosk();
    await kiosk.run({ choice: twoJuminhyo, cash: [100, undefined] });
    const { notice } = kiosk.ledger[0]!;
    assert.equal(notice.voided, undefined);
    assert.equal(await kiosk.flushOutbox(), 1);
    assert.deepEqual([1, 2].map((copy) => kiosk.serialStatus(`${notice.issuanceId}-${copy}`)), ['refunded', 'refunded']);
  });

  it('hands back a rejected note and keeps taking cash', async () => {
    const kiosk = makeKiosk({ cash: { faults: { rejectDenominations: [2000] } } });
    const result = await kiosk.run({ choice: twoJuminhyo, cash: [2000, 1000] });
    assert.deepEqual(
      { outcome: result.outcome, changeYen: (result as { changeYen: number }).changeYen },
      { outcome: 'issued', changeYen: 400 },
    );
    assert.ok(kiosk.screen.includes(refusalText('cash.rejected')));
    assert.equal(kiosk.cash.takenYen(), 600);
    assert.equal(kiosk.printedFiles().filter((file) => basename(file).includes('-certificate-')).length, 2);
  });
});
