// A second (and third) process on one PostgreSQL centre store, for postgres.test.ts: appends
// `count` audit entries, each in a transaction of its own with a handling record, as `center
// serve` would, then prints how many it appended.
import { generateEd25519KeyPair } from '../../../drivers/pki/ed25519.ts';
import { AuditLog, auditOrigin } from '../../../drivers/store/audit-log.ts';
import { openCenterDatabase } from '../../../drivers/store/center-store.ts';

const [url, name, countText, keyFile] = process.argv.slice(2) as [string, string, string, string];
const { readFileSync } = await import('node:fs');
const privateKeyPem = keyFile ? readFileSync(keyFile, 'utf8') : generateEd25519KeyPair().privateKeyPem;
const db = openCenterDatabase(url);
const audit = new AuditLog(db, { origin: auditOrigin('center'), privateKeyPem, clock: { nowMs: () => Date.parse('2026-11-02T01:00:00Z') } });
const count = Number(countText);
for (let at = 0; at < count; at += 1) {
  const issuanceId = `${name}-${at}`;
  audit.transaction([{ kind: 'completion.recorded', data: { issuanceId, operatorId: 'OP01', kioskId: 'K0001', copies: 1, feeYen: 300, duplicate: false } }], () =>
    db.run(
      `INSERT INTO handling_records (issuance_id, issued_at, operator_id, store_id, kiosk_id, municipality_code, certificate_type, copies, fee_yen)
       VALUES (:issuanceId, '2026-11-02T01:00:00.000Z', 'OP01', 'S0001', 'K0001', '131016', 'juminhyo', 1, 300)`,
      { issuanceId },
    ),
  );
}
db.close();
process.stdout.write(`${count}\n`);
