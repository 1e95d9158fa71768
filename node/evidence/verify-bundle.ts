/**
 * Verifies an evidence bundle (bundle.ts) and reports every check, so that a reader sees what holds
 * and exactly where the bundle is wrong. Offline, it needs nothing but the bundle: the operator's
 * seal over the whole document, the signed checkpoint, each entry's encoding, leaf hash, inclusion
 * proof and receipt, the consistency of earlier checkpoints, the agreements' and consents' EIP-712
 * ids and signatures, and that every served entry was covered by its agreement (parties, resource,
 * purpose, window, quota) and, for personal data, by a consent valid at that moment. With an RPC URL
 * it also checks the anchors on chain and that the operator key is a current signer of the operator
 * department. Never throws on a malformed bundle: a malformed part is a failed check.
 */
import { TypedDataEncoder, ZeroAddress, verifyTypedData, type TypedDataField } from "ethers";
import { makeProvider } from "../chain/client";
import { AGREEMENT_TYPES, CONSENT_TYPES, DOMAIN_NAMES, REVOCATION_TYPES, domainOf } from "../chain/typed-data";
import { decodeEntry, encodeEntry, type AccessLogEntry } from "../log/entry";
import {
  canonicalJson, chainBorderRight, chainInner, decomposeInclusionProof, fromHex, leafHash, parseCheckpoint, toHex,
  verifyCheckpointSignature, verifyConsistency, verifyInclusion, verifyReceipt, verifySeal, type SignedCheckpoint,
} from "../verify";
import { DepartmentRegistry__factory, LogAnchors__factory } from "../../typechain-types";
import { BUNDLE_VERSION, type BundleAgreement, type BundleConsent, type BundleEntry, type EvidenceBundle } from "./bundle";
import { keyValidAt, logOperator, trustRootFingerprint, type ActMoment, type TrustRoot } from "../trust/trust-root";
import { connectRpc, exportTrustRoot } from "../trust/export-trust-root";
import { Checks, Fault, path, same, type Check } from "../verify/checks";

export type { Check } from "../verify/checks";

/** The outcome of verifying a bundle: `ok` only when every check holds. */
export interface Report {
  ok: boolean;
  /**
   * True only when `ok` and the bundle was checked against a trust root (a file, or one read live
   * from a pinned registry): then it belongs to that deployment and every signature in it was made
   * by a key valid for its department at the moment of the act. Without one, `ok` means "intact".
   */
  authenticated: boolean;
  /** The trust root the bundle was checked against, if any. */
  trust?: { source: "file" | "rpc"; registry: string; chainId: string; block: number; fingerprint: string };
  checks: Check[];
}

/** Options of verifyBundle. */
export interface VerifyBundleOptions {
  /** JSON-RPC URL of the chain the bundle names: also check the anchors, the acts' transactions and the operator key on chain. */
  rpcUrl?: string;
  /** With `rpcUrl`: the pinned registry of the deployment; its trust root is read live and every signature checked against it. */
  registry?: string;
  /** A trust root (node/trust): the deployment the bundle must belong to and the keys valid at each act. */
  trust?: TrustRoot;
  /** Called after each entry is checked (a CLI shows a progress bar). */
  onProgress?: (done: number, total: number) => void;
}

const lower = (s: unknown) => String(s).toLowerCase();
const asArray = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

function rangeAt(level: number, i: number, size: number): string {
  const start = Number((BigInt(i) >> BigInt(level)) << BigInt(level));
  return `${start}-${Math.min(start + 2 ** level, size)}`;
}

/** The tree nodes (by leaf range) an inclusion proof names and computes: proof hash j and the node above each step. */
function proofNodes(index: number, size: number, leaf: Uint8Array, proof: Uint8Array[]): { siblings: string[]; computed: Map<string, string> } {
  const { inner, border } = decomposeInclusionProof(index, size);
  const siblings: string[] = [];
  const computed = new Map<string, string>([[`${index}-${index + 1}`, toHex(leaf)]]);
  let seed = leaf;
  for (let l = 0; l < inner; l++) {
    const sib = Number(((BigInt(index) >> BigInt(l)) ^ 1n) << BigInt(l));
    siblings.push(`${sib}-${Math.min(sib + 2 ** l, size)}`);
    seed = chainInner(seed, [proof[l]], Number(BigInt(index) >> BigInt(l)));
    computed.set(rangeAt(l + 1, index, size), toHex(seed));
  }
  let level = inner;
  for (let k = 0; k < border; level++) {
    if (((BigInt(index) >> BigInt(level)) & 1n) === 0n) continue;
    const sib = Number(((BigInt(index) >> BigInt(level)) - 1n) << BigInt(level));
    siblings.push(`${sib}-${sib + 2 ** level}`);
    seed = chainBorderRight(seed, [proof[inner + k]]);
    computed.set(rangeAt(level + 1, index, size), toHex(seed));
    k++;
  }
  return { siblings, computed };
}

/** Compares a decoded entry with the bundle's, field by field; throws naming the first field that differs. */
function compareEntry(decoded: AccessLogEntry, given: AccessLogEntry, at: string): void {
  if (given === null || typeof given !== "object") throw new Fault("entry is missing", at);
  const keys = new Set([...Object.keys(decoded), ...Object.keys(given)]);
  for (const k of keys) {
    const a = (decoded as unknown as Record<string, unknown>)[k];
    const b = (given as unknown as Record<string, unknown>)[k];
    if (canonicalJson(a ?? null) !== canonicalJson(b ?? null) || (a === undefined) !== (b === undefined)) {
      throw new Fault(`entry.${k} is ${JSON.stringify(b)} but the canonical bytes say ${JSON.stringify(a)}`, `${at}.${k}`);
    }
  }
}

function typedDomain(name: string, bundle: EvidenceBundle, contract: string) {
  return domainOf(name, BigInt(bundle.chain.chainId), contract);
}

function agreementTerms(a: BundleAgreement) {
  const t = a.terms;
  return { ...t, quota: BigInt(t.quota), validFrom: BigInt(t.validFrom), validUntil: BigInt(t.validUntil), nonce: BigInt(t.nonce) };
}

function consentTerms(c: BundleConsent) {
  const t = c.terms;
  return { ...t, validUntil: BigInt(t.validUntil), nonce: BigInt(t.nonce) };
}

/** The address that signed `value` (EIP-712) or throws if it is not `signer`. */
function checkTyped(domain: ReturnType<typeof domainOf>, types: Record<string, TypedDataField[]>, value: Record<string, unknown>, signer: string, signature: string, what: string, at: string): void {
  let recovered: string;
  try {
    recovered = verifyTypedData(domain, types, value, signature);
  } catch (err) {
    throw new Fault(`${what} is not a signature: ${(err as Error).message.split(" (")[0]}`, at);
  }
  if (!same(recovered, signer)) throw new Fault(`${what} recovers to ${recovered}, not the named signer ${signer}`, at);
}

/** Every offline and (with `opts.rpcUrl`) on-chain check of `bundle`; see the module comment. */
export async function verifyBundle(bundle: EvidenceBundle, opts: VerifyBundleOptions = {}): Promise<Report> {
  const c = new Checks();
  const b = (bundle ?? {}) as EvidenceBundle;

  c.run("bundle.shape", undefined, () => {
    if (typeof bundle !== "object" || bundle === null || Array.isArray(bundle)) throw new Error("the bundle is not a JSON object");
    for (const k of ["chain", "log", "checkpoint", "seal"] as const) {
      if (typeof b[k] !== "object" || b[k] === null) throw new Fault(`${k} is missing or not an object`, k);
    }
    for (const k of ["entries", "earlierCheckpoints", "agreements", "consents"] as const) {
      if (!Array.isArray(b[k])) throw new Fault(`${k} is missing or not an array`, k);
    }
    if (b.entries.length === 0) throw new Fault("the bundle has no entries", "entries");
    return `${b.entries.length} entries, ${b.agreements.length} agreements, ${b.consents.length} consents, ${b.earlierCheckpoints.length} earlier checkpoints`;
  });
  c.run("version", "version", () => {
    if (b.version !== BUNDLE_VERSION) throw new Error(`version is ${JSON.stringify(b.version)}, want ${BUNDLE_VERSION}`);
    return BUNDLE_VERSION;
  });

  const operatorSigners = asArray<string>(b.log?.operatorSigners).filter((s) => typeof s === "string");
  c.run("seal", "seal", () => {
    const { seal, ...unsealed } = b;
    verifySeal(unsealed, seal, operatorSigners);
    return `sealed by operator key ${seal.signer}`;
  });

  // The checkpoint every proof leads to.
  let note: SignedCheckpoint | undefined;
  c.run("checkpoint.note", "checkpoint.note", () => {
    note = parseCheckpoint(b.checkpoint.note);
    return `origin ${note.checkpoint.origin}, size ${note.checkpoint.size}`;
  });
  const size = b.checkpoint?.treeSize;
  let root: Uint8Array | undefined;
  c.run("checkpoint.matches", "checkpoint", () => {
    if (!note) throw new Error("the checkpoint note does not parse");
    const cp = note.checkpoint;
    if (cp.origin !== b.log.origin) throw new Fault(`note origin ${cp.origin} is not the log's origin ${b.log.origin}`, "log.origin");
    if (cp.size !== size) throw new Fault(`note size ${cp.size} is not checkpoint.treeSize ${size}`, "checkpoint.treeSize");
    if (toHex(cp.root) !== lower(b.checkpoint.root)) throw new Fault(`note root ${toHex(cp.root)} is not checkpoint.root ${b.checkpoint.root}`, "checkpoint.root");
    root = cp.root;
    return `size ${size}, root ${toHex(cp.root)}`;
  });
  const checkpointSigner = { value: "" };
  c.run("checkpoint.signature", "checkpoint.note", () => {
    if (!note) throw new Error("the checkpoint note does not parse");
    checkpointSigner.value = verifyCheckpointSignature(note, operatorSigners);
    return `signed by operator key ${checkpointSigner.value}`;
  });

  // Entries: encoding, leaf hash, inclusion, receipt. Inclusion failures are located afterwards.
  const entries = asArray<BundleEntry>(b.entries);
  const known = new Map<string, string>(); // leaf range → node hash, from proofs that verified
  const failedInclusion: { i: number; leaf: Uint8Array; proof: Uint8Array[] }[] = [];
  entries.forEach((e, i) => {
    let canonical: Uint8Array | undefined;
    c.run("entry.encoding", path("entries", i, "canonical"), () => {
      canonical = fromHex(e.canonical);
      compareEntry(decodeEntry(canonical), e.entry, path("entries", i, "entry"));
      if (toHex(encodeEntry(e.entry)) !== lower(e.canonical)) throw new Error("re-encoding the entry does not give the canonical bytes");
      return `${e.entry.outcome} call at ${e.entry.time}`;
    });
    const leaf = canonical ? leafHash(canonical) : undefined;
    c.run("entry.leafHash", path("entries", i, "leafHash"), () => {
      if (!leaf) throw new Error("no canonical bytes to hash");
      if (toHex(leaf) !== lower(e.leafHash)) throw new Error(`leafHash ${e.leafHash} is not SHA-256(0x00 ‖ canonical) = ${toHex(leaf)}`);
      return toHex(leaf);
    });
    c.run("entry.inclusion", path("entries", i, "proof"), () => {
      if (!leaf) throw new Error("no canonical bytes to hash");
      if (!root) throw new Error("no checkpoint root to verify against");
      const proof = asArray<string>(e.proof).map((h, j) => {
        try {
          return fromHex(h);
        } catch (err) {
          throw new Fault((err as Error).message, path("entries", i, "proof", j));
        }
      });
      if (!Array.isArray(e.proof)) throw new Error("proof is not an array");
      if (!Number.isSafeInteger(e.index) || e.index < 0 || e.index >= size) throw new Fault(`index ${e.index} is not within tree size ${size}`, path("entries", i, "index"));
      const { inner, border } = decomposeInclusionProof(e.index, size);
      if (proof.length !== inner + border) throw new Error(`proof has ${proof.length} hashes, want ${inner + border} for index ${e.index} in size ${size}`);
      proof.forEach((h, j) => {
        if (h.length !== 32) throw new Fault(`proof hash ${j} is ${h.length} bytes, want 32`, path("entries", i, "proof", j));
      });
      try {
        verifyInclusion(e.index, size, leaf, proof, root);
      } catch (err) {
        failedInclusion.push({ i, leaf, proof });
        throw err;
      }
      const nodes = proofNodes(e.index, size, leaf, proof);
      nodes.siblings.forEach((r, j) => known.set(r, toHex(proof[j])));
      for (const [r, h] of nodes.computed) known.set(r, h);
      return `index ${e.index} is in the tree of size ${size}`;
    });
    c.run("entry.receipt", path("entries", i, "receipt"), () => {
      const r = e.receipt;
      if (r.index !== e.index) throw new Fault(`receipt index ${r.index} is not the entry's index ${e.index}`, path("entries", i, "receipt", "index"));
      if (!same(r.leafHash, e.leafHash)) throw new Fault(`receipt leaf hash ${r.leafHash} is not the entry's ${e.leafHash}`, path("entries", i, "receipt", "leafHash"));
      if (r.origin !== b.log.origin) throw new Fault(`receipt origin ${r.origin} is not the log's ${b.log.origin}`, path("entries", i, "receipt", "origin"));
      verifyReceipt(r, operatorSigners);
      return `signed by operator key ${r.signer}`;
    });
    opts.onProgress?.(i + 1, entries.length);
  });
  // A proof hash that disagrees with a node another entry's verified proof authenticates is the one that was changed.
  for (const f of failedInclusion) {
    const check = c.list.find((x) => x.name === "entry.inclusion" && x.where === path("entries", f.i, "proof") && !x.ok);
    if (!check) continue;
    const e = entries[f.i];
    const nodes = proofNodes(e.index, size, f.leaf, f.proof);
    const j = nodes.siblings.findIndex((r, j) => known.has(r) && known.get(r) !== toHex(f.proof[j]));
    if (j >= 0) {
      check.where = path("entries", f.i, "proof", j);
      check.detail += `; proof hash ${j} (leaves ${nodes.siblings[j]}) should be ${known.get(nodes.siblings[j])}, as other entries' proofs show`;
    }
  }

  asArray<EvidenceBundle["earlierCheckpoints"][number]>(b.earlierCheckpoints).forEach((cp, k) => {
    c.run("checkpoint.consistency", path("earlierCheckpoints", k, "consistencyProof"), () => {
      if (!root) throw new Error("no checkpoint root to verify against");
      verifyConsistency(cp.treeSize, size, fromHex(cp.root), root, asArray<string>(cp.consistencyProof).map(fromHex));
      return `size ${cp.treeSize} is a prefix of size ${size}`;
    });
  });

  // Agreements: id, co-signatures, quota; then every served entry against its agreement.
  const agreements = asArray<BundleAgreement>(b.agreements);
  const served = entries.map((e, i) => ({ e: e?.entry, i })).filter(({ e }) => e && e.outcome === "served");
  agreements.forEach((a, k) => {
    c.run("agreement.id", path("agreements", k, "id"), () => {
      const id = TypedDataEncoder.hashStruct("Agreement", AGREEMENT_TYPES, agreementTerms(a));
      if (id !== lower(a.id)) throw new Fault(`agreement id ${a.id} is not the EIP-712 hash of its terms, ${id}`, path("agreements", k, "terms"));
      return id;
    });
    c.run("agreement.signatures", path("agreements", k, "signatures"), () => {
      const domain = typedDomain(DOMAIN_NAMES.agreements, b, b.chain.contracts.agreements);
      const terms = agreementTerms(a);
      for (const party of ["provider", "consumer"] as const) {
        const s = a.signatures[party];
        checkTyped(domain, AGREEMENT_TYPES, terms, s.signer, s.signature, `${party} signature`, path("agreements", k, "signatures", party));
      }
      return `co-signed by ${a.signatures.provider.signer} (provider) and ${a.signatures.consumer.signer} (consumer)`;
    });
    c.run("agreement.quota", path("agreements", k, "terms", "quota"), () => {
      const used = served.filter(({ e }) => same(e.agreementId, a.id)).reduce((n, { e }) => n + BigInt(e.recordCount), 0n);
      const quota = BigInt(a.terms.quota);
      if (used > quota) throw new Error(`the bundle's served entries under agreement ${a.id} total ${used} records, beyond its quota ${quota}`);
      return `${used} of ${quota} records served in this bundle`;
    });
  });
  for (const { e, i } of served) {
    c.run("entry.agreement", path("entries", i, "entry", "agreementId"), () => {
      const k = agreements.findIndex((a) => same(a?.id, e.agreementId));
      if (k < 0) throw new Error(`agreement ${e.agreementId} of this served entry is not in the bundle`);
      const t = agreements[k].terms;
      const pairs: [keyof AccessLogEntry, keyof typeof t][] = [["consumerDept", "consumer"], ["providerDept", "provider"], ["resourceId", "resource"], ["purposeHash", "purposeHash"]];
      for (const [ef, tf] of pairs) {
        if (!same(e[ef], t[tf])) throw new Fault(`entry ${ef} ${e[ef]} is not the agreement's ${tf} ${t[tf]} (agreements[${k}])`, path("entries", i, "entry", ef));
      }
      if (!same(t.meteringLog, b.log?.logId)) {
        throw new Fault(`the agreement names log ${t.meteringLog} as its metering log, not this log ${b.log?.logId} (agreements[${k}])`, path("agreements", k, "terms", "meteringLog"));
      }
      const time = BigInt(e.time);
      if (time < BigInt(t.validFrom) || time >= BigInt(t.validUntil)) {
        throw new Fault(`entry time ${e.time} is outside the agreement's window [${t.validFrom}, ${t.validUntil}) (agreements[${k}])`, path("entries", i, "entry", "time"));
      }
      return `covered by agreements[${k}]`;
    });
  }

  // Consents: id, signatures; then every served personal-data entry against a consent valid at its time.
  const consents = asArray<BundleConsent>(b.consents);
  consents.forEach((cn, k) => {
    c.run("consent.id", path("consents", k, "id"), () => {
      const id = TypedDataEncoder.hashStruct("Consent", CONSENT_TYPES, consentTerms(cn));
      if (id !== lower(cn.id)) throw new Fault(`consent id ${cn.id} is not the EIP-712 hash of its terms, ${id}`, path("consents", k, "terms"));
      return id;
    });
    c.run("consent.signatures", path("consents", k), () => {
      const domain = typedDomain(DOMAIN_NAMES.consents, b, b.chain.contracts.consents);
      const terms = consentTerms(cn);
      const r = cn.recorderSignature;
      checkTyped(domain, CONSENT_TYPES, terms, r.signer, r.signature, "recorder signature", path("consents", k, "recorderSignature"));
      if (!same(cn.terms.subjectSigner, ZeroAddress)) {
        if (typeof cn.subjectSignature !== "string") throw new Fault(`the terms name subject key ${cn.terms.subjectSigner} but there is no subject signature`, path("consents", k, "subjectSignature"));
        checkTyped(domain, CONSENT_TYPES, terms, cn.terms.subjectSigner, cn.subjectSignature, "subject signature", path("consents", k, "subjectSignature"));
      } else if (cn.subjectSignature !== undefined) {
        throw new Fault("a subject signature is present but the terms name no subject key", path("consents", k, "subjectSignature"));
      }
      if (cn.revocation) {
        checkTyped(domain, REVOCATION_TYPES, { consentId: cn.id }, cn.revocation.by, cn.revocation.signature, "revocation signature", path("consents", k, "revocation"));
      }
      return `recorded by ${r.signer}${cn.revocation ? `, revoked by ${cn.revocation.by}` : ""}`;
    });
  });
  for (const { e, i } of served.filter(({ e }) => e.subjectCommitment !== null)) {
    c.run("consent.validity", path("entries", i, "entry", "subjectCommitment"), () => {
      const matching = consents
        .map((cn, k) => ({ cn, k }))
        .filter(({ cn }) => cn?.terms && same(cn.terms.subject, e.subjectCommitment) && same(cn.terms.grantee, e.consumerDept) && same(cn.terms.resource, e.resourceId) && same(cn.terms.purposeHash, e.purposeHash));
      if (matching.length === 0) throw new Error(`no consent in the bundle of subject ${e.subjectCommitment} to ${e.consumerDept} for this resource and purpose`);
      const faults: Fault[] = [];
      for (const { cn, k } of matching) {
        const t = e.time;
        if (!(cn.grantedAt <= t)) faults.push(new Fault(`consents[${k}] was granted at ${cn.grantedAt}, after the entry's time ${t}`, path("consents", k, "grantedAt")));
        else if (!(BigInt(t) < BigInt(cn.terms.validUntil))) faults.push(new Fault(`consents[${k}] expired at ${cn.terms.validUntil}, not after the entry's time ${t}`, path("consents", k, "terms", "validUntil")));
        else if (!(cn.revokedAt === 0 || t <= cn.revokedAt)) faults.push(new Fault(`consents[${k}] was revoked at ${cn.revokedAt}, before the entry's time ${t}`, path("consents", k, "revokedAt")));
        else if (!Number.isSafeInteger(cn.grantedAt) || !Number.isSafeInteger(cn.revokedAt)) faults.push(new Fault(`consents[${k}] has malformed times`, path("consents", k)));
        else if (cn.revokedAt !== 0 && !cn.revocation) faults.push(new Fault(`consents[${k}] says it was revoked at ${cn.revokedAt} but carries no revocation`, path("consents", k, "revocation")));
        else if (cn.revokedAt === 0 && cn.revocation) faults.push(new Fault(`consents[${k}] carries a revocation but says it was never revoked`, path("consents", k, "revokedAt")));
        else return `consents[${k}] was valid at the time of the access (${t})${cn.revokedAt ? `; revoked later, at ${cn.revokedAt}` : ""}`;
      }
      throw faults[0];
    });
  }

  let trust = opts.trust;
  let source: "file" | "rpc" = "file";
  if (opts.rpcUrl && opts.registry && !trust) {
    source = "rpc";
    await c.runAsync("trust.root", "chain.contracts.registry", async () => {
      const provider = await connectRpc(opts.rpcUrl!);
      try {
        trust = await exportTrustRoot(provider, opts.registry!);
      } finally {
        provider.destroy();
      }
      return `read live from registry ${opts.registry} on chain ${trust.chainId} at block ${trust.takenAt.block}`;
    });
  }
  if (trust) {
    // The key that signed the note, even if the bundle's own list of operator keys does not name it.
    let signer = checkpointSigner.value;
    if (!signer && note) signer = (() => { try { return verifyCheckpointSignature(note); } catch { return ""; } })();
    verifyAuthenticity(b, trust, signer, c);
  }
  if (opts.rpcUrl) await verifyOnChain(b, opts.rpcUrl, checkpointSigner.value, c);
  const ok = c.list.every((x) => x.ok);
  return {
    ok,
    authenticated: ok && trust !== undefined,
    ...(trust ? { trust: { source, registry: trust.registry, chainId: trust.chainId, block: trust.takenAt.block, fingerprint: trustRootFingerprint(trust) } } : {}),
    checks: c.list,
  };
}

/**
 * The checks against a trust root: the bundle names the root's deployment and log, and every
 * signature in it — seal, checkpoint, receipts, agreement co-signatures, consent recorders and
 * revokers — was made by a key valid for its department at the moment of the act: for acts on
 * chain the block the bundle gives (`--rpc` confirms those blocks), for the operator's own
 * signatures the time they were made (an entry's time for its receipt, the bundle's creation
 * for the seal and the checkpoint note).
 */
function verifyAuthenticity(b: EvidenceBundle, root: TrustRoot, checkpointSigner: string, c: Checks): void {
  const keyAt = (dept: string, key: unknown, at: ActMoment, what: string, where: string): string => {
    if (typeof key !== "string") throw new Fault(`${what} names no key`, where);
    const v = keyValidAt(root, dept, key, at);
    if (!v.ok) throw new Fault(`${what}: ${v.detail}`, where);
    return v.detail;
  };
  c.run("trust.deployment", "chain", () => {
    if (String(b.chain?.chainId) !== root.chainId) throw new Fault(`the bundle names chain ${b.chain?.chainId}, the trust root is of chain ${root.chainId}`, "chain.chainId");
    for (const k of Object.keys(root.contracts) as (keyof TrustRoot["contracts"])[]) {
      const named = b.chain?.contracts?.[k];
      if (!same(named, root.contracts[k])) {
        throw new Fault(`the bundle names ${k} ${named}, but the trust root's deployment (registry ${root.registry}) has ${root.contracts[k]}: not this deployment`, path("chain", "contracts", k));
      }
    }
    return `chain ${root.chainId}, the deployment of registry ${root.registry}`;
  });
  const operator = logOperator(root, String(b.log?.logId));
  const logOk = c.run("trust.log", "log", () => {
    if (!operator) throw new Fault(`log ${b.log?.logId} is not registered in the trust root's deployment`, "log.logId");
    if (!same(operator, b.log.operatorDepartment)) throw new Fault(`log ${b.log.logId} is operated by ${operator} per the trust root, the bundle says ${b.log.operatorDepartment}`, "log.operatorDepartment");
    return `log ${b.log.logId} operated by ${operator}`;
  });
  const created: ActMoment = { timestamp: Number(b.createdAt) };
  c.run("trust.seal", "seal.signer", () => {
    if (!logOk) throw new Error("the log's operator is not known to the trust root");
    return keyAt(operator!, b.seal?.signer, created, "the seal's key", "seal.signer");
  });
  c.run("trust.checkpoint", "checkpoint.note", () => {
    if (!logOk) throw new Error("the log's operator is not known to the trust root");
    if (!checkpointSigner) throw new Error("the checkpoint signature did not verify");
    if (!(Number(b.createdAt) >= Number(b.checkpoint?.anchor?.timestamp))) throw new Fault(`the bundle says it was made at ${b.createdAt}, before its checkpoint was anchored at ${b.checkpoint?.anchor?.timestamp}`, "createdAt");
    return keyAt(operator!, checkpointSigner, created, "the checkpoint's key", "checkpoint.note");
  });
  asArray<BundleEntry>(b.entries).forEach((e, i) => {
    c.run("trust.receipt", path("entries", i, "receipt", "signer"), () => {
      if (!logOk) throw new Error("the log's operator is not known to the trust root");
      return keyAt(operator!, e?.receipt?.signer, { timestamp: Number(e?.entry?.time) }, `the receipt of entry ${e?.index}`, path("entries", i, "receipt", "signer"));
    });
  });
  asArray<BundleAgreement>(b.agreements).forEach((a, k) => {
    c.run("trust.agreement", path("agreements", k, "signatures"), () => {
      const at: ActMoment = { block: Number(a?.activation?.block) };
      if (!Number.isSafeInteger(at.block)) throw new Fault("the agreement has no activation block", path("agreements", k, "activation", "block"));
      const p = keyAt(a.terms.provider, a.signatures?.provider?.signer, at, "the provider's key", path("agreements", k, "signatures", "provider", "signer"));
      const q = keyAt(a.terms.consumer, a.signatures?.consumer?.signer, at, "the consumer's key", path("agreements", k, "signatures", "consumer", "signer"));
      return `activated in block ${at.block}: ${p}; ${q}`;
    });
  });
  asArray<BundleConsent>(b.consents).forEach((cn, k) => {
    c.run("trust.consent", path("consents", k), () => {
      const granted: ActMoment = { block: Number(cn?.grant?.block) };
      if (!Number.isSafeInteger(granted.block)) throw new Fault("the consent has no grant block", path("consents", k, "grant", "block"));
      const details = [`granted in block ${granted.block}: ${keyAt(cn.terms.recorder, cn.recorderSignature?.signer, granted, "the recorder's key", path("consents", k, "recorderSignature", "signer"))}`];
      if (cn.revocation) {
        const revoked: ActMoment = { block: Number(cn.revocation.block) };
        if (!Number.isSafeInteger(revoked.block)) throw new Fault("the revocation has no block", path("consents", k, "revocation", "block"));
        if (same(cn.revocation.by, cn.terms.subjectSigner) && !same(cn.terms.subjectSigner, ZeroAddress)) details.push(`revoked in block ${revoked.block} by the subject's own key`);
        else details.push(`revoked in block ${revoked.block}: ${keyAt(cn.terms.recorder, cn.revocation.by, revoked, "the revoker's key", path("consents", k, "revocation", "by"))}`);
      }
      return details.join("; ");
    });
  });
}

/** The checks against the chain: network, anchors (latest and earlier), anchor transaction, operator key. */
async function verifyOnChain(b: EvidenceBundle, rpcUrl: string, checkpointSigner: string, c: Checks): Promise<void> {
  let chainId: bigint;
  try {
    chainId = BigInt(b.chain.chainId);
  } catch {
    c.run("chain.network", "chain.chainId", () => { throw new Error(`chain id ${JSON.stringify(b.chain?.chainId)} is not a number`); });
    return;
  }
  const provider = makeProvider(rpcUrl, chainId);
  try {
    const networkOk = await c.runAsync("chain.network", "chain.chainId", async () => {
      const served = BigInt(await provider.send("eth_chainId", []));
      if (served !== chainId) throw new Error(`the RPC serves chain ${served}, the bundle names chain ${chainId}`);
      return `chain ${chainId} at ${rpcUrl}`;
    });
    if (!networkOk) return;
    const anchors = LogAnchors__factory.connect(b.chain.contracts.anchors, provider);
    const registry = DepartmentRegistry__factory.connect(b.chain.contracts.registry, provider);
    const cp = b.checkpoint;
    await c.runAsync("chain.anchor", "checkpoint.anchor.index", async () => {
      const onChain = await anchors.checkpointAt(b.log.logId, cp.anchor.index);
      if (Number(onChain.treeSize) !== cp.treeSize) throw new Fault(`anchor ${cp.anchor.index} on chain has size ${onChain.treeSize}, the bundle says ${cp.treeSize}`, "checkpoint.treeSize");
      if (onChain.root.toLowerCase() !== lower(cp.root)) throw new Fault(`anchor ${cp.anchor.index} on chain has root ${onChain.root}, the bundle says ${cp.root}`, "checkpoint.root");
      if (Number(onChain.blockNumber) !== cp.anchor.block) throw new Fault(`anchor ${cp.anchor.index} was made in block ${onChain.blockNumber}, the bundle says ${cp.anchor.block}`, "checkpoint.anchor.block");
      if (Number(onChain.timestamp) !== cp.anchor.timestamp) throw new Fault(`anchor ${cp.anchor.index} was made at ${onChain.timestamp}, the bundle says ${cp.anchor.timestamp}`, "checkpoint.anchor.timestamp");
      return `LogAnchors.checkpointAt(${b.log.logId}, ${cp.anchor.index}) = (${cp.treeSize}, ${cp.root})`;
    });
    await c.runAsync("chain.anchorTx", "checkpoint.anchor.tx", async () => {
      const receipt = await provider.getTransactionReceipt(cp.anchor.tx);
      if (!receipt) throw new Error(`no receipt of transaction ${cp.anchor.tx} on chain ${chainId}`);
      if (receipt.blockNumber !== cp.anchor.block) throw new Error(`transaction ${cp.anchor.tx} is in block ${receipt.blockNumber}, not ${cp.anchor.block}`);
      if (receipt.status !== 1) throw new Error(`transaction ${cp.anchor.tx} reverted`);
      if (!same(receipt.to, b.chain.contracts.anchors)) throw new Error(`transaction ${cp.anchor.tx} was sent to ${receipt.to}, not LogAnchors ${b.chain.contracts.anchors}`);
      return `mined in block ${receipt.blockNumber}`;
    });
    for (const [k, e] of asArray<EvidenceBundle["earlierCheckpoints"][number]>(b.earlierCheckpoints).entries()) {
      await c.runAsync("chain.earlierAnchor", path("earlierCheckpoints", k), async () => {
        const onChain = await anchors.checkpointAt(b.log.logId, e.index);
        if (Number(onChain.treeSize) !== e.treeSize || onChain.root.toLowerCase() !== lower(e.root)) {
          throw new Error(`anchor ${e.index} on chain is (${onChain.treeSize}, ${onChain.root}), the bundle says (${e.treeSize}, ${e.root})`);
        }
        return `anchor ${e.index} = (${e.treeSize}, ${e.root})`;
      });
    }
    // The acts the trust checks judged by their blocks: each transaction is on chain, in that block, to that contract.
    const acts: { where: string; what: string; tx: unknown; block: unknown; to: string }[] = [];
    asArray<BundleAgreement>(b.agreements).forEach((a, k) => acts.push({ where: path("agreements", k, "activation"), what: `activation of agreement ${a?.id}`, tx: a?.activation?.tx, block: a?.activation?.block, to: b.chain.contracts.agreements }));
    asArray<BundleConsent>(b.consents).forEach((cn, k) => {
      acts.push({ where: path("consents", k, "grant"), what: `grant of consent ${cn?.id}`, tx: cn?.grant?.tx, block: cn?.grant?.block, to: b.chain.contracts.consents });
      if (cn?.revocation) acts.push({ where: path("consents", k, "revocation"), what: `revocation of consent ${cn.id}`, tx: cn.revocation.tx, block: cn.revocation.block, to: b.chain.contracts.consents });
    });
    for (const act of acts) {
      await c.runAsync("chain.act", act.where, async () => {
        if (typeof act.tx !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(act.tx)) throw new Error(`the ${act.what} names no transaction hash`);
        const receipt = await provider.getTransactionReceipt(act.tx);
        if (!receipt) throw new Error(`no transaction ${act.tx} (${act.what}) on chain ${chainId}`);
        if (receipt.blockNumber !== act.block) throw new Fault(`the ${act.what} was mined in block ${receipt.blockNumber}, the bundle says ${act.block}`, `${act.where}.block`);
        if (receipt.status !== 1) throw new Error(`transaction ${act.tx} (${act.what}) reverted`);
        if (!same(receipt.to, act.to)) throw new Error(`transaction ${act.tx} (${act.what}) was sent to ${receipt.to}, not ${act.to}`);
        return `${act.what}: transaction ${act.tx} in block ${receipt.blockNumber}`;
      });
    }
    await c.runAsync("chain.operator", "log.operatorDepartment", async () => {
      const operator = await anchors.operatorOf(b.log.logId);
      if (operator.toLowerCase() !== lower(b.log.operatorDepartment)) throw new Error(`log ${b.log.logId} is operated by ${operator} on chain, the bundle says ${b.log.operatorDepartment}`);
      const keys = [...new Set([b.seal?.signer, checkpointSigner].filter((k): k is string => typeof k === "string" && k !== "").map((k) => k.toLowerCase()))];
      if (keys.length === 0) throw new Error("no operator key to check (seal and checkpoint signature did not verify)");
      for (const key of keys) {
        if (!(await registry.isSigner(operator, key))) throw new Error(`${key} is not a current signer of the operator department ${operator}`);
      }
      return `${keys.join(", ")} ${keys.length > 1 ? "are current signers" : "is a current signer"} of ${operator}`;
    });
  } finally {
    provider.destroy();
  }
}
