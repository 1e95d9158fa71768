import { sha256 } from "@noble/hashes/sha2";
import { canonicalJson } from "./canonical-json";
import { bytesEqual, fromHex, toHex } from "./encoding";
import { personalMessageHash, recoverAddress } from "./eip191";
import { VerificationError } from "./errors";

/*
 * A seal is the log operator's signature over a whole JSON document (an evidence bundle), so that a
 * change of any value anywhere in it is detected, not only in the parts other checks cover. The
 * operator signs, as an EIP-191 personal_sign, the text
 *
 *   dcl-evidence-seal/v1\n<0x-hex SHA-256 of the RFC 8785 canonical JSON of the document without its seal>
 *
 * JCS makes the digest independent of key order and whitespace, so the seal survives any faithful
 * re-serialisation of the document and nothing else.
 */

/** A seal as carried in the document: the operator address and its 65-byte signature (0x-hex). */
export interface Seal {
  signer: string;
  signature: string;
}

const encoder = new TextEncoder();

/** 0x-hex SHA-256 of the canonical JSON of `unsealed` (the document without its `seal` member). */
export function sealDigest(unsealed: unknown): string {
  return toHex(sha256(encoder.encode(canonicalJson(unsealed))));
}

/** The exact bytes the operator signs to seal `unsealed`. */
export function sealSigningPayload(unsealed: unknown): Uint8Array {
  return encoder.encode(`dcl-evidence-seal/v1\n${sealDigest(unsealed)}`);
}

/** Throws unless `seal` is its signer's signature over `unsealed` (and, when given, the signer is one of `expectedSigners`). */
export function verifySeal(unsealed: unknown, seal: Seal, expectedSigners?: string[]): void {
  const digest = personalMessageHash(sealSigningPayload(unsealed));
  const recovered = recoverAddress(digest, fromHex(seal.signature));
  if (recovered === null || !bytesEqual(fromHex(recovered), fromHex(seal.signer))) {
    throw new VerificationError("SEAL_SIGNATURE_INVALID", `seal is not a signature by ${seal.signer} over this document (recovered ${recovered ?? "nothing"})`, {
      signer: seal.signer, recovered: recovered ?? "",
    });
  }
  if (expectedSigners && !expectedSigners.some((s) => s.toLowerCase() === recovered.toLowerCase())) {
    throw new VerificationError("SEAL_SIGNER_UNEXPECTED", `seal is signed by ${recovered}, not one of the operator keys ${expectedSigners.join(", ")}`, {
      signer: recovered,
    });
  }
}
