// Test helper: a 住民票の写し for the PDF tests, with names that need 髙, 﨑 and 𠮷. Each test gives
// the fields and the request it is about; the serials follow from the request and the copies.
import { CERTIFICATE_TYPES } from '../core/certificate-types.ts';
import { certificateSerials } from '../core/certificate-serial.ts';
import { AppError } from '../core/errors.ts';
import { certificateContent, type Resident } from '../core/resident.ts';
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

/**
 * The built-in types whose data the resident's record holds: another is refused as
 * certificate.not_on_record (core/resident.ts), not drawn, so the PDF tests draw only these.
 */
export function typesOnRecord(resident: Resident): (typeof CERTIFICATE_TYPES)[number][] {
  return CERTIFICATE_TYPES.filter((type) => {
    try {
      certificateContent({ resident, type, mayorTitle: '', municipalityCode: '', requestId: 'R', kioskId: 'K', copies: 1, atMs: Date.UTC(2026, 10, 27), issuedOnText: '' });
      return true;
    } catch (error) {
      if (error instanceof AppError && error.code === 'certificate.not_on_record') return false;
      throw error;
    }
  });
}
