/**
 * Off-chain check of a department's EIP-712 signature before it is relayed: the same rule the
 * contracts apply (a current signer of the department, per the indexed registry), checked early so
 * that a bad signature is a clear 4xx, not a reverted transaction.
 */
import { verifyTypedData, type TypedDataDomain, type TypedDataField } from "ethers";
import type { Indexer } from "../indexer/indexer";
import { fail } from "../errors";

/** A department's signature as the contracts take it. */
export interface DepartmentSignature {
  signer: string;
  signature: string;
}

/** The address that signed typed data `value`; a malformed signature is a SIGNATURE_MALFORMED error. */
export function recoverTypedSigner(
  domain: TypedDataDomain,
  types: Record<string, TypedDataField[]>,
  value: Record<string, unknown>,
  signature: string,
): string {
  try {
    return verifyTypedData(domain, types, value, signature);
  } catch {
    throw fail.invalid("SIGNATURE_MALFORMED", "signature is not a 65-byte ECDSA signature over these typed data");
  }
}

/** Recovers the signer of `value` and checks it is a current signer of `department`; returns the signature pair. */
export async function checkDepartmentSignature(
  indexer: Indexer,
  department: string,
  domain: TypedDataDomain,
  types: Record<string, TypedDataField[]>,
  value: Record<string, unknown>,
  signature: string,
): Promise<DepartmentSignature> {
  const signer = recoverTypedSigner(domain, types, value, signature);
  if (!(await indexer.isSigner(department, signer))) {
    throw fail.forbidden("SIGNATURE_INVALID", `signature by ${signer}, which is not a current signer of department ${department}`);
  }
  return { signer, signature };
}

/**
 * Adds one party's checked signature to `signatures[side]`, saves it, and once both `sides` have
 * signed relays the co-signed object with `submit` (the contracts check both signatures again).
 * Returns the relay's result, or undefined while a signature is still missing.
 */
export async function addCosignature<S extends string, R>(
  signatures: Partial<Record<S, DepartmentSignature>>,
  side: S,
  signature: DepartmentSignature,
  sides: readonly [S, S],
  save: () => Promise<void>,
  submit: (first: DepartmentSignature, second: DepartmentSignature) => Promise<R>,
): Promise<R | undefined> {
  signatures[side] = signature;
  await save();
  const [a, b] = [signatures[sides[0]], signatures[sides[1]]];
  return a && b ? submit(a, b) : undefined;
}
