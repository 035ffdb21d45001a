// A certificate type no code knows, as a municipality would define it (docs/certificate-types.md):
// 住居表示証明書, with one option. The centre, command-line and definition tests share it.
import type { CertificateTypeDefinition } from '../../core/certificate-types.ts';

export const JUKYO_HYOJI: CertificateTypeDefinition = {
  title: '住居表示証明書',
  issuedBy: 'residence',
  certifiedText: '上記のとおり住居表示が実施されたことを証明する。',
  fields: [
    { label: '氏名', source: 'name' },
    { label: '新住所', source: 'address' },
    { label: '住民となった日', source: 'residentSince' },
    { label: '世帯主', source: 'householder', when: { option: 'householder', values: ['shown'] } },
  ],
  options: [{ key: 'householder', label: '世帯主', kind: 'choice', choices: [{ value: 'omitted', label: '省略' }, { value: 'shown', label: '記載' }], default: 'omitted' }],
};
