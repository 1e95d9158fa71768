/**
 * Non-tax fee records, their collection results, and the one canonical byte form of each that the
 * batch's RFC 6962 tree is built over.
 *
 * Canonical form: the record as a JSON object whose values are all strings (integers in decimal,
 * no leading zeros), keys sorted, no whitespace, UTF-8 — i.e. RFC 8785 (JCS) of the all-string
 * object, which a client in any language can reproduce. Amounts are integer fen, never floats.
 */
import { z } from "zod";

const uscc = z.string().regex(/^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/, "an 18-character unified social credit code");
const period = z.string().regex(/^\d{4}(0[1-9]|1[0-2])$/, "YYYYMM");
const count = z.string().regex(/^(0|[1-9]\d{0,17})$/, "a non-negative integer in decimal");
const permit = z.string().min(1).max(64).regex(/^[\x21-\x7e\u4e00-\u9fff]+$/, "printable, no spaces");

/** A water-resource fee record (水资源费): one per permit and month. */
export const WaterFeeRecord = z.strictObject({
  payer: uscc,
  permitNo: permit,
  period,
  volumeM3: count,
  rateFenPerM3: count,
  amountFen: count,
});

/** A civil-air-defence relocation fee record (防空地下室易地建设费): one per construction project. */
export const CadFeeRecord = z.strictObject({
  payer: uscc,
  constructionPermitNo: permit,
  areaM2: count,
  rateFenPerM2: count,
  amountFen: count,
});

/** The tax side's collection result for one record. */
export const CollectionResult = z.strictObject({
  recordLeafHash: z.string().regex(/^0x[0-9a-f]{64}$/),
  paidFen: count,
  paidDate: z.string().regex(/^\d{8}$/, "YYYYMMDD"),
  voucherNo: permit,
  status: z.enum(["paid", "partially_paid", "unpaid"]),
});

export type WaterFeeRecord = z.infer<typeof WaterFeeRecord>;
export type CadFeeRecord = z.infer<typeof CadFeeRecord>;
export type CollectionResult = z.infer<typeof CollectionResult>;
/** Any fee record. */
export type FeeRecord = WaterFeeRecord | CadFeeRecord;

/** Fee categories and the record shape each uses. */
export const CATEGORIES = {
  "water-resource-fee": WaterFeeRecord,
  "civil-air-defence-relocation-fee": CadFeeRecord,
} as const;

/** A fee category code. */
export type Category = keyof typeof CATEGORIES;

/** Each category's arithmetic: amountFen = quantity × rate, exactly, in integer fen. */
export const FEE_ARITHMETIC: Record<Category, { quantity: string; rate: string }> = {
  "water-resource-fee": { quantity: "volumeM3", rate: "rateFenPerM3" },
  "civil-air-defence-relocation-fee": { quantity: "areaM2", rate: "rateFenPerM2" },
};

/**
 * Why a record of `category` (already valid for its schema) does not add up, or undefined when
 * its amountFen is exactly its quantity × its rate (BigInt: no rounding, whatever the size).
 */
export function feeArithmeticError(category: Category, record: Record<string, string>): string | undefined {
  const { quantity, rate } = FEE_ARITHMETIC[category];
  const expected = BigInt(record[quantity]) * BigInt(record[rate]);
  if (BigInt(record.amountFen) === expected) return undefined;
  return `amountFen ${record.amountFen} is not ${quantity} ${record[quantity]} × ${rate} ${record[rate]} = ${expected}`;
}

/** The canonical bytes of a record or result (JCS of an all-string object). */
export function canonicalBytes(record: Record<string, string>): Uint8Array {
  const keys = Object.keys(record).sort();
  const json = "{" + keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(record[k])}`).join(",") + "}";
  return new TextEncoder().encode(json);
}
