// Proves `verify-document` tells a genuine certificate copy from a voided, an altered, a foreign
// and an unsigned one, with the centre's deployment (--dir) and offline with its published key
// (--key), and exits 2 for what is not a certificate; and that the QR code a phone reads off the
// page carries the statement the centre signed.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { auditOrigin, noteSignerFor } from '../../drivers/store/audit-log.ts';
import { loadConfig } from '../../cmd/config.ts';
import { openRoleAuditLog } from '../../cmd/config.ts';
import { fixtureMunicipalities, fixtureResidents } from '../../cmd/fixtures.ts';
import { DOCUMENT_KEY_NAME } from '../../core/document-statement.ts';
import { certificateContent } from '../../core/resident.ts';
import { renderCertificatePdf } from '../../drivers/pdf/certificate-pdf.ts';
import { sealCertificateCopies, sealRegions } from '../../drivers/pdf/document-seal.ts';
import { generateEd25519KeyPair } from '../../drivers/pki/ed25519.ts';
import { createCenterStore, openCenterDatabase } from '../../drivers/store/center-store.ts';
import { qrTextOnFirstPage } from '../document-qr.ts';
import { popplerMissing } from '../poppler.ts';
import { run } from './cli-fixture.ts';
import { freshDeployment } from './deployment-fixture.ts';

describe('verify-document', () => {
  let work: string;
  let dir: string;
  const files: Record<string, string> = {};
  const issuedAtMs = Date.parse('2026-11-27T01:00:00Z');

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-verify-document-'));
    dir = freshDeployment(path.join(work, 'deployment'));
    const loaded = loadConfig(dir);
    const { resident } = fixtureResidents()[0]!;
    const municipality = fixtureMunicipalities().find((candidate) => candidate.code === resident.municipalityCode)!;
    const content = (requestId: string) =>
      certificateContent({ resident, type: 'juminhyo', mayorTitle: municipality.mayorTitle, municipalityCode: municipality.code, requestId, kioskId: 'K0001', copies: 2, atMs: issuedAtMs, issuedOnText: '令和8年11月27日' });
    const centreKey = loaded.read(loaded.config.center.auditKeyFile);
    const signer = noteSignerFor(DOCUMENT_KEY_NAME, centreKey, 'ed25519');
    const write = (name: string, bytes: Uint8Array) => {
      files[name] = path.join(work, `${name}.pdf`);
      fs.writeFileSync(files[name]!, bytes);
    };

    // Two requests the centre issued, the second voided after a misprint of its first copy.
    const db = openCenterDatabase(loaded.resolve(loaded.config.center.databaseFile));
    try {
      const store = createCenterStore(db, openRoleAuditLog(db, loaded, loaded.config.center, auditOrigin('center'), { nowMs: () => issuedAtMs }));
      for (const requestId of ['REQ-GENUINE', 'REQ-VOIDED']) {
        store.saveRequest({ requestId, sessionToken: `token-${requestId}`, operatorId: 'OP01', storeId: 'S0001', kioskId: 'K0001', municipalityCode: municipality.code, certificateType: 'juminhyo', options: {}, copies: 2, unitFeeYen: 300, contentSha256: 'ab'.repeat(32), createdAtMs: issuedAtMs });
      }
      store.recordVoidedSerials({ issuanceId: 'REQ-VOIDED', operatorId: 'OP01', kioskId: 'K0001', serials: ['REQ-VOIDED-1'], code: 'printer.jam', voidedAt: '2026-11-27T01:01:00.000Z' }, '2026-11-27T01:01:05.000Z');
    } finally {
      db.close();
    }
    const genuine = sealCertificateCopies(await renderCertificatePdf(content('REQ-GENUINE')), content('REQ-GENUINE'), signer);
    write('genuine', genuine[0]!);
    write('genuine-copy2', genuine[1]!);
    write('voided', sealCertificateCopies(await renderCertificatePdf(content('REQ-VOIDED')), content('REQ-VOIDED'), signer)[0]!);
    write('never-issued', sealCertificateCopies(await renderCertificatePdf(content('REQ-NEVER')), content('REQ-NEVER'), signer)[0]!);
    const foreignSigner = noteSignerFor(DOCUMENT_KEY_NAME, generateEd25519KeyPair().privateKeyPem, 'ed25519');
    write('foreign', sealCertificateCopies(await renderCertificatePdf(content('REQ-GENUINE')), content('REQ-GENUINE'), foreignSigner)[0]!);
    write('unsigned', (await renderCertificatePdf(content('REQ-GENUINE')))[0]!);

    // Altered: one byte of a page's compressed text, the QR code, the statement's signature.
    const regions = sealRegions(genuine[0]!)!;
    const edited = (edit: (bytes: Uint8Array) => void) => {
      const bytes = Uint8Array.from(genuine[0]!);
      edit(bytes);
      return bytes;
    };
    const contentAt = Buffer.from(genuine[0]!).indexOf('stream\n', Buffer.from(genuine[0]!).indexOf('/Type /Page ')) + 40;
    write('altered-content', edited((bytes) => (bytes[contentAt] = bytes[contentAt]! ^ 0x01)));
    write('altered-qr', edited((bytes) => (bytes[regions.image.start + 200] = bytes[regions.image.start + 200]! ^ 0x10)));
    const signatureAt = regions.statement.start + 2 * 280; // inside the signature line's hex
    write('altered-statement', edited((bytes) => (bytes[signatureAt] = bytes[signatureAt] === 0x61 ? 0x62 : 0x61)));
    fs.writeFileSync(path.join(work, 'not-a-pdf.pdf'), 'hello\n');
    fs.writeFileSync(path.join(work, 'empty.pdf'), '');
    // A photo's first bytes are not UTF-8.
    fs.writeFileSync(path.join(work, 'photo.pdf'), Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46));
    // A certificate cut short in transfer: the blanks' markers are there, the image's end is not.
    fs.writeFileSync(path.join(work, 'truncated.pdf'), genuine[0]!.subarray(0, sealRegions(genuine[0]!)!.image.start + 100));
  });

  after(() => fs.rmSync(work, { recursive: true, force: true }));

  const verify = async (name: string, ...flags: string[]) => {
    const result = await run('verify-document', files[name] ?? path.join(work, `${name}.pdf`), ...flags, '--json');
    return { code: result.code, report: result.stdout === '' ? undefined : JSON.parse(result.stdout), stderr: result.stderr };
  };

  it('says genuine, exit 0, for every copy the centre signed and did not void, with what the statement names', async () => {
    for (const name of ['genuine', 'genuine-copy2']) {
      const { code, report } = await verify(name, '--dir', dir);
      assert.equal(code, 0, name);
      assert.deepEqual(report, {
        status: 'genuine',
        reason: 'signed by the centre and unchanged; the kiosk has not yet reported the transaction complete',
        serial: name === 'genuine' ? 'REQ-GENUINE-1' : 'REQ-GENUINE-2',
        municipalityCode: '131016',
        certificateType: 'juminhyo',
        issuedOn: '2026-11-27',
        voidChecked: true,
      });
    }
  });

  it('says void, exit 3, for a copy voided after a misprint, and unknown for a serial the centre never issued', async () => {
    const voided = await verify('voided', '--dir', dir);
    assert.equal(voided.code, 3);
    assert.equal(voided.report.status, 'void');
    assert.match(voided.report.reason, /printer\.jam/);
    const never = await verify('never-issued', '--dir', dir);
    assert.equal(never.code, 3);
    assert.equal(never.report.status, 'unknown');
  });

  it("reads the centre's store without writing to it and without the centre's audit key; a store behind this program's schema is exit 2", async () => {
    const copy = path.join(work, 'read-only-deployment');
    fs.cpSync(dir, copy, { recursive: true });
    const loaded = loadConfig(copy);
    fs.rmSync(loaded.resolve(loaded.config.center.auditKeyFile));
    const centreDb = loaded.resolve(loaded.config.center.databaseFile);
    const before = fs.readFileSync(centreDb);
    assert.equal((await verify('genuine', '--dir', copy)).report.status, 'genuine');
    assert.equal((await verify('voided', '--dir', copy)).report.status, 'void');
    const serial = await run('center', 'serial', 'REQ-VOIDED-1', '--dir', copy, '--json');
    assert.equal(JSON.parse(serial.stdout).status, 'void', serial.stderr);
    assert.deepEqual(fs.readFileSync(centreDb), before, 'the centre database was written');
    const behind = openCenterDatabase(centreDb);
    behind.run('DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations)');
    behind.close();
    const stale = await run('verify-document', files.genuine!, '--dir', copy);
    assert.equal(stale.code, 2);
    assert.match(stale.stderr, /has schema version \d+; center serve \(or any command that writes\) brings it to \d+/);
    assert.equal(stale.stderr.trim().split('\n').length, 1);
  });

  it('says altered, exit 3, when the page, the QR code or the signature was changed', async () => {
    for (const name of ['altered-content', 'altered-qr', 'altered-statement']) {
      const { code, report } = await verify(name, '--dir', dir);
      assert.equal(code, 3, name);
      assert.equal(report.status, 'altered', name);
    }
  });

  it("says unknown, exit 3, for another centre's certificate and for one never signed", async () => {
    for (const name of ['foreign', 'unsigned']) {
      const { code, report } = await verify(name, '--dir', dir);
      assert.equal(code, 3, name);
      assert.equal(report.status, 'unknown', name);
    }
  });

  it('checks offline with the key `center document-key` prints: genuine, but void status unchecked', async () => {
    const key = await run('center', 'document-key', '--dir', dir);
    assert.equal(key.code, 0, key.stderr);
    assert.match(key.stdout, /^cvs-issue\/center\/documents\+[0-9a-f]{8}\+\S+\n$/);
    const keyFile = path.join(work, 'document.vkey');
    fs.writeFileSync(keyFile, key.stdout);
    for (const flag of [key.stdout.trim(), `@${keyFile}`]) {
      const voided = await verify('voided', '--key', flag);
      assert.equal(voided.code, 0);
      assert.deepEqual({ status: voided.report.status, voidChecked: voided.report.voidChecked }, { status: 'genuine', voidChecked: false });
    }
    assert.equal((await verify('altered-content', '--key', key.stdout.trim())).report.status, 'altered');
    assert.equal((await verify('foreign', '--key', key.stdout.trim())).report.status, 'unknown');
  });

  it('exits 2 with one line for what is not a certificate, a missing file, or neither or both of --dir and --key', async () => {
    const receipt = await run('verify-document', path.join(work, 'not-a-pdf.pdf'), '--dir', dir);
    assert.deepEqual({ code: receipt.code, stderr: receipt.stderr }, { code: 2, stderr: `cvs-issue: ${path.join(work, 'not-a-pdf.pdf')}: not a PDF file\n` });
    for (const args of [
      [path.join(work, 'empty.pdf'), '--dir', dir],
      [path.join(work, 'photo.pdf'), '--dir', dir],
      [path.join(work, 'truncated.pdf'), '--dir', dir],
      [path.join(work, 'missing.pdf'), '--dir', dir],
      [files.genuine!],
      [files.genuine!, '--dir', dir, '--key', 'x'],
      [files.genuine!, '--key', 'not-a-key'],
    ]) {
      const result = await run('verify-document', ...args);
      assert.equal(result.code, 2, args.join(' '));
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.equal(result.stdout, '');
    }
  });

  it('the QR code a phone reads off the page is the signed statement the file carries', { skip: popplerMissing }, async () => {
    const text = qrTextOnFirstPage(fs.readFileSync(files.genuine!));
    assert.ok(text, 'a QR code is read');
    assert.match(text!, /^cvs-issue certificate v1\nserial REQ-GENUINE-1\nmunicipality 131016\ntype juminhyo\nissued 2026-11-27\nsha256 [0-9a-f]{64}\n\n— cvs-issue\/center\/documents \S+\n$/);
  });
});
