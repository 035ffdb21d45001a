// How our certificates name their subject and issuer, as node-forge writes them (issue.ts). The
// serial-number forms live in serial.ts, without forge, because verify.ts needs only those.
import forge from 'node-forge';

export interface SubjectFields {
  commonName: string;
  organization?: string;
  organizationalUnit?: string;
  /** The DN serialNumber attribute (2.5.4.5), e.g. a kiosk id; not the certificate serial. */
  serialNumber?: string;
  /** ISO 3166 two-letter code. */
  country?: string;
}

// @types/node-forge types valueTagClass as asn1.Class; forge really stores an asn1.Type there.
type ForgeAttribute = Omit<forge.pki.CertificateField, 'valueTagClass'> & { valueTagClass?: number };

const { asn1 } = forge;

/** forge attributes in the usual order C, O, OU, CN, serialNumber. Text is UTF8String (Japanese
 * names are fine); country and serialNumber must be PrintableString (RFC 5280, X.520). */
export function subjectAttributes(subject: SubjectFields): forge.pki.CertificateField[] {
  const utf8 = asn1.Type.UTF8;
  const printable = asn1.Type.PRINTABLESTRING;
  const fields: [string, string | undefined, number][] = [
    ['countryName', subject.country, printable],
    ['organizationName', subject.organization, utf8],
    ['organizationalUnitName', subject.organizationalUnit, utf8],
    ['commonName', subject.commonName, utf8],
    ['serialNumber', subject.serialNumber, printable],
  ];
  return fields
    .filter((field): field is [string, string, number] => field[1] !== undefined)
    .map(([name, value, valueTagClass]) => ({ name, value, valueTagClass }) as ForgeAttribute)
    .map(asForgeField);
}

/** An issuer's subject, read by forge, ready to be written again as a leaf's issuer. forge keeps
 * parsed UTF8String values as raw bytes but encodes them again on output, so decode them first. */
export function issuerAttributes(issuer: forge.pki.Certificate): forge.pki.CertificateField[] {
  return (issuer.subject.attributes as ForgeAttribute[]).map((attribute) =>
    attribute.valueTagClass === asn1.Type.UTF8
      ? { ...attribute, value: forge.util.decodeUtf8(String(attribute.value)) }
      : attribute,
  ).map(asForgeField);
}

function asForgeField(attribute: ForgeAttribute): forge.pki.CertificateField {
  return attribute as forge.pki.CertificateField;
}
