/**
 * Checks done in the browser with dcl's own verification code (node/verify, node/log/entry): an
 * access entry's leaf hash from its fields, its RFC 6962 inclusion proof against the root anchored on
 * chain (or, before the next anchor, the latest signed checkpoint), the checkpoint's signature, and a
 * consistency proof between the anchored and the latest checkpoint. Nothing here trusts the server's
 * word for a hash: each is recomputed.
 */
import { encodeEntry, type AccessLogEntry } from "../../../node/log/entry";
import { canonicalJson, fromHex, leafHash, parseCheckpoint, toHex, verifyCheckpointSignature, verifyConsistency, verifyInclusion } from "../../../node/verify";
import { publicGet } from "./api";

/** One check: what was checked, whether it holds, and what was found. */
export interface ProofCheck {
  name: "leaf" | "inclusion" | "anchor" | "signature" | "consistency" | "recordLeaf" | "record";
  ok: boolean;
  detail: string;
}

/** The log's latest checkpoint and the latest anchored on chain (public). */
export interface LogCheckpoint {
  logId: string;
  origin: string;
  treeSize: number;
  root: string;
  note: string;
  anchored: { index: number; treeSize: number; root: string; tx: string; block: number; timestamp: number } | null;
}

interface InclusionProof {
  index: number;
  treeSize: number;
  leafHash: string;
  root: string;
  proof: string[];
}

const attempt = (name: ProofCheck["name"], fn: () => string): ProofCheck => {
  try {
    return { name, ok: true, detail: fn() };
  } catch (err) {
    return { name, ok: false, detail: (err as Error).message };
  }
};

/** Checks entry `index` (as the trail gave it) in the browser. */
export async function checkEntry(index: number, entry: AccessLogEntry, givenLeafHash: string): Promise<{ checks: ProofCheck[]; treeSize: number; anchored: boolean; proof: string[] }> {
  const checks: ProofCheck[] = [];
  let computed: Uint8Array | undefined;
  checks.push(attempt("leaf", () => {
    computed = leafHash(encodeEntry(entry));
    if (toHex(computed) !== givenLeafHash.toLowerCase()) throw new Error(`the entry's fields hash to ${toHex(computed)}, not ${givenLeafHash}`);
    return toHex(computed);
  }));
  const cp = await publicGet<LogCheckpoint>("/v1/log/checkpoint");
  const anchored = cp.anchored !== null && index < cp.anchored.treeSize;
  const size = anchored ? cp.anchored!.treeSize : cp.treeSize;
  const root = anchored ? cp.anchored!.root : cp.root;
  if (!anchored) {
    checks.push(attempt("signature", () => {
      const signer = verifyCheckpointSignature(cp.note);
      const parsed = parseCheckpoint(cp.note);
      if (parsed.checkpoint.size !== cp.treeSize || toHex(parsed.checkpoint.root) !== cp.root) throw new Error("the signed note does not state this size and root");
      return signer;
    }));
  }
  const p = await publicGet<InclusionProof>(`/v1/log/proofs/inclusion?index=${index}&treeSize=${size}`);
  checks.push(attempt("inclusion", () => {
    verifyInclusion(index, size, computed ?? fromHex(givenLeafHash), p.proof.map(fromHex), fromHex(root));
    return `${p.proof.length} hashes → ${root}`;
  }));
  if (anchored) checks.push({ name: "anchor", ok: true, detail: `block ${cp.anchored!.block}, tx ${cp.anchored!.tx}` });
  return { checks, treeSize: size, anchored, proof: p.proof };
}

/** Checks that the latest checkpoint extends the anchored one (consistency proof) and that it is signed. */
export async function checkLog(): Promise<{ cp: LogCheckpoint; checks: ProofCheck[] }> {
  const cp = await publicGet<LogCheckpoint>("/v1/log/checkpoint");
  const checks: ProofCheck[] = [
    attempt("signature", () => {
      const signer = verifyCheckpointSignature(cp.note);
      const parsed = parseCheckpoint(cp.note);
      if (parsed.checkpoint.size !== cp.treeSize || toHex(parsed.checkpoint.root) !== cp.root) throw new Error("the signed note does not state this size and root");
      return signer;
    }),
  ];
  const a = cp.anchored;
  if (a && a.treeSize > 0 && a.treeSize <= cp.treeSize) {
    const c = await publicGet<{ from: number; to: number; root1: string; root2: string; proof: string[] }>(`/v1/log/proofs/consistency?from=${a.treeSize}&to=${cp.treeSize}`);
    checks.push(attempt("consistency", () => {
      verifyConsistency(a.treeSize, cp.treeSize, fromHex(a.root), fromHex(cp.root), c.proof.map(fromHex));
      return `${a.treeSize} → ${cp.treeSize} (${c.proof.length} hashes)`;
    }));
  }
  return { cp, checks };
}

/** Checks a transfer record in the browser: its leaf hash from its fields (canonical JSON) and its Merkle proof against the batch's records root (as on chain). */
export function checkRecord(index: number, count: number, r: { record: Record<string, string>; leafHash: string; proof: string[] }, recordsRoot: string): ProofCheck[] {
  let computed: Uint8Array | undefined;
  return [
    attempt("recordLeaf", () => {
      computed = leafHash(new TextEncoder().encode(canonicalJson(r.record)));
      if (toHex(computed) !== r.leafHash.toLowerCase()) throw new Error(`the record's fields hash to ${toHex(computed)}, not ${r.leafHash}`);
      return toHex(computed);
    }),
    attempt("record", () => {
      verifyInclusion(index, count, computed ?? fromHex(r.leafHash), r.proof.map(fromHex), fromHex(recordsRoot));
      return `${r.proof.length} hashes → ${recordsRoot}`;
    }),
  ];
}

/** SHA-256 of a file's bytes, computed by the browser (Web Crypto), as 0x-hex. */
export async function sha256File(file: Blob): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return "0x" + Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
