// The certificate types of the interchange format (SPEC.md §4) and how they are named on screen.

export const CERTIFICATE_TYPES = [
  'juminhyo',
  'juminhyo-kisai',
  'inkan',
  'koseki-zenbu',
  'koseki-kojin',
  'fuhyo',
  'shotoku-kazei',
] as const;

export type CertificateType = (typeof CERTIFICATE_TYPES)[number];

export const CERTIFICATE_TITLES: Record<CertificateType, string> = {
  juminhyo: '住民票の写し',
  'juminhyo-kisai': '住民票記載事項証明書',
  inkan: '印鑑登録証明書',
  'koseki-zenbu': '戸籍全部事項証明書',
  'koseki-kojin': '戸籍個人事項証明書',
  fuhyo: '戸籍の附票の写し',
  'shotoku-kazei': '所得・課税証明書',
};

export function isCertificateType(value: unknown): value is CertificateType {
  return typeof value === 'string' && (CERTIFICATE_TYPES as readonly string[]).includes(value);
}

/** 戸籍 certificates are issued by the 本籍地, everything else by the 住所地. */
export function isKosekiType(type: CertificateType): boolean {
  return type === 'koseki-zenbu' || type === 'koseki-kojin';
}
