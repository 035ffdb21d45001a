// Test helper: a 住民票の写し for the PDF tests, with names that need 髙, 﨑 and 𠮷. Each test gives
// the fields and the request it is about; the serials follow from the request and the copies.
import { certificateSerials } from '../core/certificate-serial.ts';
import type { CertificateDocument } from '../drivers/pdf/certificate-pdf.ts';

export function sampleCertificate(what: { requestId: string; copies: number; fields: CertificateDocument['fields'] }): CertificateDocument {
  return {
    title: '住民票の写し',
    municipalityName: '千代田区長',
    fields: what.fields,
    certifiedText: 'この写しは、住民票の原本と相違ないことを証明する。',
    issuedOnText: '令和8年11月27日',
    requestId: what.requestId,
    kioskId: 'K-0001',
    municipalityCode: '131016',
    certificateType: 'juminhyo',
    serials: certificateSerials(what.requestId, what.copies),
    createdAtMs: Date.UTC(2026, 10, 27, 5, 0, 0),
  };
}
