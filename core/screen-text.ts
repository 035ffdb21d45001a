// What the kiosk screen says, in Japanese (Spec§8-2). One place for every refusal a resident can see.

import { CENTER_WINDOW, windowText } from './service-hours.ts';

const REFUSAL_TEXT: Record<string, string> = {
  'card.absent': 'カードが置かれていません。カードを置いてください。',
  'card.unreadable': 'カードを読み取れませんでした。カードの向きを確認し、もう一度置いてください。',
  'card.locked': '暗証番号がロックされています。お住まいの市区町村の窓口で手続きをしてください。',
  'card.kind_not_accepted': 'この端末ではスマートフォン用電子証明書はご利用いただけません。マイナンバーカードをお使いください。',
  'card.expired': '電子証明書の有効期限が切れています。市区町村の窓口で更新してください。',
  'card.not_yet_valid': '電子証明書がまだ有効になっていません。',
  'card.revoked': 'この電子証明書は失効しています。市区町村の窓口にお問い合わせください。',
  'card.untrusted': 'このカードはご利用いただけません。',
  'card.wrong_usage': 'このカードの電子証明書はご利用いただけません。市区町村の窓口にお問い合わせください。',
  'card.pin_format': '暗証番号は数字4桁です。',
  'auth.bad_signature': 'カードの認証に失敗しました。もう一度お試しください。',
  'auth.challenge_expired': '時間切れになりました。最初からやり直してください。',
  'auth.challenge_unknown': '認証に失敗しました。最初からやり直してください。',
  'municipality.not_participating': 'お住まいの市区町村はコンビニ交付サービスを実施していません。',
  'hours.center_closed': 'サービス提供時間外です（6:30〜23:00、12月29日〜1月3日を除く）。',
  'hours.maintenance': 'ただいまシステムメンテナンス中のため、ご利用いただけません。',
  'hours.municipality_closed': 'この証明書は現在の時間帯には発行できません。',
  'municipality.stopped': 'お住まいの市区町村は、ただいまコンビニ交付を停止しています。',
  'municipality.backend_unavailable': 'お住まいの市区町村のシステムに接続できないため、ただいまご利用いただけません。',
  'municipality.backend_invalid': 'お住まいの市区町村のシステムに接続できないため、ただいまご利用いただけません。',
  'relay.operator_stopped': 'ただいまこの店舗のコンビニ交付サービスを停止しています。',
  'resident.moved_out': 'この証明書はキオスク端末では発行できません。市区町村の窓口をご利用ください。',
  'resident.support_measure': 'この証明書はキオスク端末では発行できません。市区町村の窓口をご利用ください。',
  'resident.under_age': 'このサービスは15歳以上の方がご利用いただけます。',
  'resident.name_too_long': 'この証明書はキオスク端末では発行できません。市区町村の窓口をご利用ください。',
  'request.type_not_offered': 'この証明書はお取り扱いしていません。',
  'request.too_many_copies': '一度に発行できる通数を超えています。',
  'session.expired': '時間切れになりました。最初からやり直してください。',
  'binding.mismatch': '証明書データに誤りがあったため、発行を中止しました。料金はいただきません。',
  'cash.insufficient': '投入金額が不足しています。',
  'cash.rejected': 'この硬貨・紙幣はご利用いただけません。',
  'cash.fault': '現金ユニットの故障のため、取引を中止しました。',
  'cash.no_change': 'おつりが不足しているため、取引を中止しました。',
  'printer.jam': '用紙が詰まったため印刷を中止しました。料金を返金します。',
  'printer.paper_out': '用紙切れのため印刷を中止しました。料金を返金します。',
  'printer.fault': 'プリンタの故障のため印刷を中止しました。料金を返金します。',
  'transport.timeout': '通信がタイムアウトしました。しばらくしてからもう一度お試しください。',
  'transport.unreachable': '証明書交付センターに接続できません。しばらくしてからお試しください。',
  'transport.closed': '証明書交付センターに接続できません。しばらくしてからお試しください。',
  'transport.tls_refused': '証明書交付センターに接続できません。店員にお声がけください。',
  'transport.server_untrusted': '証明書交付センターに接続できません。店員にお声がけください。',
};

const FALLBACK_TEXT = 'ただいまご利用いただけません。店員にお声がけください。';

export function refusalText(code: string): string {
  return REFUSAL_TEXT[code] ?? FALLBACK_TEXT;
}

export const SCREEN = {
  welcome: 'コンビニ交付サービス　マイナンバーカードを置いてください。',
  /** Spec§7-2: the hours, before the card is read; each type's own hours are on the menu. */
  hours: `ご利用時間　毎日${windowText(CENTER_WINDOW).replace(/^0/, '')}（12月29日〜1月3日を除く）。証明書の種類により、ご利用いただける時間が異なります。`,
  enterPin: '利用者証明用電子証明書の暗証番号（数字4桁）を入力してください。',
  wrongPin: (triesLeft: number) => `暗証番号が違います。あと${triesLeft}回間違えるとロックされます。`,
  authenticating: '認証しています。しばらくお待ちください。',
  menu: '発行する証明書を選んでください。',
  fee: (title: string, copies: number, feeYen: number) => `${title} ${copies}通　手数料 ${feeYen.toLocaleString('en-US')}円`,
  insertCash: (feeYen: number, insertedYen: number) =>
    `お金を入れてください。　料金 ${feeYen.toLocaleString('en-US')}円　投入額 ${insertedYen.toLocaleString('en-US')}円`,
  printing: (copy: number, copies: number) => `印刷しています（${copy}/${copies}通）。`,
  change: (changeYen: number) => `おつり ${changeYen.toLocaleString('en-US')}円をお取りください。`,
  done: '証明書と領収書、カードをお取りください。ご利用ありがとうございました。',
  cancelled: '取引を中止しました。投入されたお金とカードをお取りください。',
  refunded: (refundedYen: number) => `${refundedYen.toLocaleString('en-US')}円を返金しました。印刷済みの証明書は無効です。`,
  /** C§9: for the clerk, after a misprint or a cash fault once printing began; every serial of the transaction. */
  stampVoid: (serials: readonly string[]) =>
    `店員の方へ：この取引の証明書${serials.length}通はすべて無効です。印刷された証明書の1枚ごとに「返金済・無効」と押印してください。証明書番号：${serials.join('、')}`,
  voidSlipFailed: '「返金済・無効」の控えを印刷できませんでした。無効の記録はセンターに送られます。画面の証明書番号を控えて押印してください。',
} as const;
