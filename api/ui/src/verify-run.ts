/**
 * The Verify page's engine, loaded only when needed: dcl's own bundle verifier
 * (node/evidence/verify-bundle.ts) and trust-root parser (node/trust/trust-root.ts), the same code
 * `dcl verify` runs, here in the browser, offline: no request leaves the page.
 */
import { verifyBundle, type Report } from "../../../node/evidence/verify-bundle";
import type { EvidenceBundle } from "../../../node/evidence/bundle";
import { parseTrustRoot, trustRootFingerprint, type TrustRoot } from "../../../node/trust/trust-root";

export type { Report };

/** Why an input could not be read. */
export class UnreadableInput extends Error {
  constructor(readonly which: "bundle" | "trust", message: string) {
    super(message);
  }
}

/** Parses a trust root file, or says why it is not one. */
export function readTrustRoot(text: string): { root: TrustRoot; fingerprint: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UnreadableInput("trust", `not JSON: ${(err as Error).message}`);
  }
  try {
    const root = parseTrustRoot(json);
    return { root, fingerprint: trustRootFingerprint(root) };
  } catch (err) {
    throw new UnreadableInput("trust", (err as Error).message);
  }
}

/** Verifies a bundle's text, with a trust root's text if given. */
export async function verifyText(bundleText: string, trustText?: string, onProgress?: (done: number, total: number) => void): Promise<Report> {
  let bundle: unknown;
  try {
    bundle = JSON.parse(bundleText);
  } catch (err) {
    throw new UnreadableInput("bundle", `not JSON: ${(err as Error).message}`);
  }
  const trust = trustText === undefined ? undefined : readTrustRoot(trustText).root;
  return verifyBundle(bundle as EvidenceBundle, { trust, onProgress });
}

/** Verifies a bundle already parsed (e.g. the calls of a provenance report), integrity only. */
export function verifyObject(bundle: unknown): Promise<Report> {
  return verifyBundle(bundle as EvidenceBundle);
}
