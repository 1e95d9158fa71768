/**
 * Verifies a period bundle (period-bundle.ts) and recomputes its assessment from its entries alone.
 * Offline: the seal, the checkpoint note and its signature, each entry's encoding, the range proof
 * (the entries with their two neighbours recompute the checkpoint's root: none dropped, added,
 * changed or reordered), that the neighbours lie outside the period and every entry inside it in
 * time order, the agreements' terms against their ids (and co-signatures when present), and that
 * the assessment in the bundle is exactly the one recomputed. With a trust root, the keys; with an
 * RPC URL, the anchor on chain. Reports every check with where it looked; never throws on a
 * malformed bundle.
 */
import { TypedDataEncoder, verifyTypedData } from "ethers";
import { makeProvider } from "../chain/client";
import { AGREEMENT_TYPES, DOMAIN_NAMES, domainOf } from "../chain/typed-data";
import { decodeEntry, encodeEntry, type AccessLogEntry } from "../log/entry";
import { keyValidAt, logOperator, trustRootFingerprint, type TrustRoot } from "../trust/trust-root";
import { canonicalJson, fromHex, leafHash, parseCheckpoint, toHex, verifyCheckpointSignature, verifyRange, verifySeal, type SignedCheckpoint } from "../verify";
import { Checks, Fault, same, type Check } from "../verify/checks";
import { LogAnchors__factory } from "../../typechain-types";
import { AssessmentBuilder, type AgreementTerms, type Assessment } from "./assess";
import { firstDifference, valueAt } from "./compare";
import { checkPeriod } from "./period";
import { PERIOD_BUNDLE_VERSION, type PeriodAgreement, type PeriodBundle } from "./period-bundle";

/** The outcome: every check, and the assessment recomputed from the entries (when they could be read). */
export interface PeriodReport {
  ok: boolean;
  /** `ok`, and checked against a trust root: the seal, checkpoint and co-signatures are by keys valid for their departments. */
  authenticated: boolean;
  trust?: { registry: string; chainId: string; block: number; fingerprint: string };
  checks: Check[];
  /** Recomputed from the bundle's entries and agreements, whatever the bundle's own assessment says. */
  assessment?: Assessment;
}

/** Options of verifyPeriodBundle. */
export interface VerifyPeriodOptions {
  trust?: TrustRoot;
  /** JSON-RPC URL of the chain: also check the checkpoint's anchor on chain. */
  rpcUrl?: string;
}

const isHexArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

/** Every check of `bundle`, and its assessment recomputed; see the module comment. */
export async function verifyPeriodBundle(bundle: PeriodBundle, opts: VerifyPeriodOptions = {}): Promise<PeriodReport> {
  const c = new Checks();
  const b = (bundle ?? {}) as PeriodBundle;
  const shapeOk = c.run("bundle.shape", undefined, () => {
    if (typeof bundle !== "object" || bundle === null || Array.isArray(bundle)) throw new Error("the bundle is not a JSON object");
    for (const k of ["chain", "log", "period", "checkpoint", "range", "proof", "assessment", "seal"] as const) {
      if (typeof b[k] !== "object" || b[k] === null) throw new Fault(`${k} is missing or not an object`, k);
    }
    if (!isHexArray(b.entries)) throw new Fault("entries is not an array of hex strings", "entries");
    if (!Array.isArray(b.agreements)) throw new Fault("agreements is not an array", "agreements");
    if (!isHexArray(b.proof.left) || !isHexArray(b.proof.right)) throw new Fault("proof.left and proof.right must be arrays of hex strings", "proof");
    for (const k of ["before", "after"] as const) if (b[k] !== null && typeof b[k] !== "string") throw new Fault(`${k} is neither a hex string nor null`, k);
    if (!Number.isSafeInteger(b.range.begin) || !Number.isSafeInteger(b.range.end)) throw new Fault("range.begin and range.end must be integers", "range");
    return `${b.entries.length} entries [${b.range.begin}, ${b.range.end}) of the tree of size ${b.checkpoint.treeSize}, ${b.agreements.length} agreements`;
  });
  if (!shapeOk) return { ok: false, authenticated: false, checks: c.list };
  c.run("version", "version", () => {
    if (b.version !== PERIOD_BUNDLE_VERSION) throw new Error(`version is ${JSON.stringify(b.version)}, want ${PERIOD_BUNDLE_VERSION}`);
    return PERIOD_BUNDLE_VERSION;
  });
  const operatorSigners = (Array.isArray(b.log.operatorSigners) ? b.log.operatorSigners : []).filter((s): s is string => typeof s === "string");
  c.run("seal", "seal", () => {
    const { seal, ...unsealed } = b;
    verifySeal(unsealed, seal, operatorSigners);
    return `sealed by operator key ${seal.signer}`;
  });

  // The checkpoint the range is proven against.
  let note: SignedCheckpoint | undefined;
  let root: Uint8Array | undefined;
  const size = b.checkpoint.treeSize;
  c.run("checkpoint.note", "checkpoint.note", () => {
    note = parseCheckpoint(b.checkpoint.note);
    const cp = note.checkpoint;
    if (cp.origin !== b.log.origin) throw new Fault(`note origin ${cp.origin} is not the log's origin ${b.log.origin}`, "log.origin");
    if (cp.size !== size) throw new Fault(`note size ${cp.size} is not checkpoint.treeSize ${size}`, "checkpoint.treeSize");
    if (toHex(cp.root) !== String(b.checkpoint.root).toLowerCase()) throw new Fault(`note root ${toHex(cp.root)} is not checkpoint.root ${b.checkpoint.root}`, "checkpoint.root");
    root = cp.root;
    return `origin ${cp.origin}, size ${cp.size}, root ${toHex(cp.root)}`;
  });
  let checkpointSigner = "";
  c.run("checkpoint.signature", "checkpoint.note", () => {
    if (!note) throw new Error("the checkpoint note does not parse");
    checkpointSigner = verifyCheckpointSignature(note, operatorSigners);
    return `signed by operator key ${checkpointSigner}`;
  });
  c.run("period", "period", () => {
    checkPeriod(b.period);
    return `[${b.period.from}, ${b.period.to})${b.period.label ? ` (${b.period.label})` : ""}`;
  });

  // The entries and their neighbours: bytes, then decoded.
  const { begin, end } = b.range;
  let bytes: Uint8Array[] | undefined;
  let decoded: AccessLogEntry[] | undefined;
  let before: AccessLogEntry | undefined;
  let after: AccessLogEntry | undefined;
  c.run("entries.encoding", "entries", () => {
    const read = (hex: string, where: string) => {
      try {
        const raw = fromHex(hex);
        const e = decodeEntry(raw);
        if (toHex(encodeEntry(e)) !== toHex(raw)) throw new Error("re-encoding does not give the same bytes");
        return { raw, e };
      } catch (err) {
        throw new Fault(`${where} is not a canonical entry: ${(err as Error).message}`, where);
      }
    };
    const all = b.entries.map((h, i) => read(h, `entries[${i}]`));
    before = b.before === null ? undefined : read(b.before, "before").e;
    after = b.after === null ? undefined : read(b.after, "after").e;
    bytes = all.map((x) => x.raw);
    decoded = all.map((x) => x.e);
    return `${all.length} entries${before ? ", the entry before" : ""}${after ? ", the entry after" : ""} decode to their canonical bytes`;
  });

  const rangeName = `[${begin}, ${end})`;
  c.run("range.proof", "entries", () => {
    if (!bytes) throw new Error("the entries do not decode");
    if (!root) throw new Error("no checkpoint root to verify against");
    if (end - begin !== b.entries.length) throw new Fault(`the range ${rangeName} has ${end - begin} entries, the bundle holds ${b.entries.length}`, "range");
    const lo = b.before === null ? begin : begin - 1;
    const hi = b.after === null ? end : end + 1;
    const leaves = [...(b.before === null ? [] : [leafHash(fromHex(b.before))]), ...bytes.map(leafHash), ...(b.after === null ? [] : [leafHash(fromHex(b.after))])];
    try {
      verifyRange(lo, size, b.proof.left.map(fromHex), leaves, b.proof.right.map(fromHex), root);
    } catch (err) {
      throw new Error(`the bundle's entries are not exactly the log's entries ${rangeName} (with their neighbours, [${lo}, ${hi})) in the tree of size ${size}: ${(err as Error).message}`);
    }
    return `the ${b.entries.length} entries are exactly the log's entries ${rangeName} in the tree of size ${size}: with their neighbours they recompute its root`;
  });
  c.run("range.start", "before", () => {
    if (!decoded) throw new Error("the entries do not decode");
    if (b.before === null) {
      if (begin !== 0) throw new Error(`no entry before the range is given, but the range starts at ${begin}, not at the log's first entry`);
      return "the range starts at the log's first entry";
    }
    if (begin === 0) throw new Error("an entry before the range is given, but the range starts at the log's first entry");
    if (!(before!.time < b.period.from)) throw new Error(`the entry before the range (${begin - 1}) has time ${before!.time}, not before the period's start ${b.period.from}: the range does not start at the period's first entry`);
    return `entry ${begin - 1} has time ${before!.time} < ${b.period.from}: every earlier entry is before the period (the log is in time order)`;
  });
  let closed = false;
  c.run("range.end", "after", () => {
    if (!decoded) throw new Error("the entries do not decode");
    if (b.after === null) {
      if (end !== size) throw new Error(`no entry after the range is given, but the range ends at ${end}, before the checkpoint's size ${size}`);
      return `the range ends at the checkpoint's size ${size}: the period was still open there (complete up to this checkpoint; entries logged later may fall in it)`;
    }
    if (end >= size) throw new Error(`an entry after the range is given, but the range ends at the checkpoint's size ${size}`);
    if (!(after!.time >= b.period.to)) throw new Error(`the entry after the range (${end}) has time ${after!.time}, before the period's end ${b.period.to}: the range does not end at the period's last entry`);
    closed = true;
    return `entry ${end} has time ${after!.time} ≥ ${b.period.to}: every later entry is after the period, which is closed`;
  });
  c.run("range.times", "entries", () => {
    if (!decoded) throw new Error("the entries do not decode");
    let last = before?.time ?? 0;
    decoded.forEach((e, i) => {
      if (e.time < b.period.from || e.time >= b.period.to) throw new Fault(`entries[${i}] (log index ${begin + i}) has time ${e.time}, outside the period [${b.period.from}, ${b.period.to})`, `entries[${i}]`);
      if (e.time < last) throw new Fault(`entries[${i}] (log index ${begin + i}) has time ${e.time}, before the entry preceding it (${last}): not in time order`, `entries[${i}]`);
      last = e.time;
    });
    if (after && after.time < last) throw new Fault(`the entry after the range has time ${after.time}, before the range's last (${last})`, "after");
    return `${decoded.length} entries in [${b.period.from}, ${b.period.to}), in time order`;
  });

  // Agreements: terms bound to their ids; co-signatures when given.
  const trusted: PeriodAgreement[] = [];
  b.agreements.forEach((a, k) => {
    c.run("agreement", `agreements[${k}]`, () => {
      const t = a?.terms;
      if (!t || typeof t !== "object") throw new Fault("the agreement has no terms", `agreements[${k}].terms`);
      const terms = { ...t, quota: BigInt(t.quota), validFrom: BigInt(t.validFrom), validUntil: BigInt(t.validUntil), nonce: BigInt(t.nonce) };
      const id = TypedDataEncoder.hashStruct("Agreement", AGREEMENT_TYPES, terms);
      if (!same(id, a.id)) throw new Fault(`agreement id ${a.id} is not the EIP-712 hash of its terms, ${id}`, `agreements[${k}].terms`);
      let signed = "";
      if (a.signatures) {
        const domain = domainOf(DOMAIN_NAMES.agreements, BigInt(b.chain.chainId), b.chain.contracts.agreements);
        for (const party of ["provider", "consumer"] as const) {
          const s = a.signatures[party];
          const recovered = (() => {
            try {
              return verifyTypedData(domain, AGREEMENT_TYPES, terms, s.signature);
            } catch (err) {
              throw new Fault(`the ${party} signature is not a signature: ${(err as Error).message.split(" (")[0]}`, `agreements[${k}].signatures.${party}`);
            }
          })();
          if (!same(recovered, s.signer)) throw new Fault(`the ${party} signature recovers to ${recovered}, not ${s.signer}`, `agreements[${k}].signatures.${party}`);
        }
        signed = `; co-signed by ${a.signatures.provider.signer} and ${a.signatures.consumer.signer}`;
      }
      trusted.push(a);
      return `terms of ${id}: quota ${t.quota} records${signed}`;
    });
  });

  // The assessment, recomputed from the entries alone.
  let assessment: Assessment | undefined;
  c.run("assessment", "assessment", () => {
    if (!decoded || !root) throw new Error("the entries or the checkpoint do not verify: nothing to recompute from");
    assessment = recompute(b, decoded, trusted, closed);
    const diff = firstDifference(JSON.parse(canonicalJson(assessment)), JSON.parse(canonicalJson(b.assessment)));
    if (diff) {
      throw new Fault(`the bundle's assessment differs from the one recomputed from its entries at ${diff}: ${JSON.stringify(valueAt(b.assessment, diff))} in the bundle, ${JSON.stringify(valueAt(assessment, diff))} recomputed`, `assessment.${diff}`);
    }
    return `recomputed from the ${decoded.length} entries: ${assessment.departments.length} departments, identical to the bundle's`;
  });

  if (opts.trust) verifyTrust(b, opts.trust, checkpointSigner, c);
  if (opts.rpcUrl) await verifyAnchor(b, opts.rpcUrl, c);
  const ok = c.list.every((x) => x.ok);
  const t = opts.trust;
  return {
    ok,
    authenticated: ok && t !== undefined,
    ...(t ? { trust: { registry: t.registry, chainId: t.chainId, block: t.takenAt.block, fingerprint: trustRootFingerprint(t) } } : {}),
    checks: c.list,
    ...(assessment ? { assessment } : {}),
  };
}

/** The assessment of the bundle's period from `entries` (its decoded entries) and the agreements whose terms verified, for `departments` (default: all seen). */
function recompute(b: PeriodBundle, entries: AccessLogEntry[], agreements: PeriodAgreement[], closed: boolean, departments?: string[]): Assessment {
  const builder = new AssessmentBuilder(b.period);
  entries.forEach((e) => builder.add(e));
  const byId = new Map(agreements.map((a) => [a.id.toLowerCase(), a.terms as AgreementTerms]));
  const basis = { treeSize: b.checkpoint.treeSize, root: String(b.checkpoint.root).toLowerCase(), begin: b.range.begin, end: b.range.end, closed };
  return builder.finish(basis, (id) => byId.get(id.toLowerCase()), departments);
}

/**
 * The assessment of a bundle that verified (`report.ok`), for `departments` only (a department not in
 * the period has zero figures): to compare with an assessment the API gave for some departments.
 */
export function recomputeFor(bundle: PeriodBundle, report: PeriodReport, departments: string[]): Assessment {
  if (!report.ok || !report.assessment) throw new Error("the bundle does not verify: nothing to recompute from");
  return recompute(bundle, bundle.entries.map((h) => decodeEntry(fromHex(h))), bundle.agreements, report.assessment.basis.closed, departments);
}

/** The bundle names the trust root's deployment and log; the seal and checkpoint keys were the operator's at the bundle's creation; co-signers were their departments' at activation. */
function verifyTrust(b: PeriodBundle, root: TrustRoot, checkpointSigner: string, c: Checks): void {
  c.run("trust.deployment", "chain", () => {
    if (String(b.chain.chainId) !== root.chainId) throw new Fault(`the bundle names chain ${b.chain.chainId}, the trust root is of chain ${root.chainId}`, "chain.chainId");
    for (const k of Object.keys(root.contracts) as (keyof TrustRoot["contracts"])[]) {
      if (!same(b.chain.contracts?.[k], root.contracts[k])) throw new Fault(`the bundle names ${k} ${b.chain.contracts?.[k]}, the trust root's deployment has ${root.contracts[k]}`, `chain.contracts.${k}`);
    }
    return `chain ${root.chainId}, the deployment of registry ${root.registry}`;
  });
  const operator = logOperator(root, String(b.log.logId));
  const at = { timestamp: Number(b.createdAt) };
  c.run("trust.operator", "log", () => {
    if (!operator) throw new Fault(`log ${b.log.logId} is not registered in the trust root's deployment`, "log.logId");
    if (!same(operator, b.log.operatorDepartment)) throw new Fault(`log ${b.log.logId} is operated by ${operator} per the trust root, the bundle says ${b.log.operatorDepartment}`, "log.operatorDepartment");
    const details: string[] = [];
    for (const [what, key, where] of [["seal", b.seal?.signer, "seal.signer"], ["checkpoint", checkpointSigner, "checkpoint.note"]] as const) {
      if (!key) throw new Fault(`the ${what} signature did not verify`, where);
      const v = keyValidAt(root, operator, key, at);
      if (!v.ok) throw new Fault(`the ${what}'s key: ${v.detail}`, where);
      details.push(`${what}: ${v.detail}`);
    }
    return details.join("; ");
  });
  b.agreements.forEach((a, k) => {
    if (!a?.signatures) return;
    c.run("trust.agreement", `agreements[${k}].signatures`, () => {
      const block = Number(a.activation?.block);
      if (!Number.isSafeInteger(block)) throw new Fault("the agreement has signatures but no activation block", `agreements[${k}].activation`);
      const out: string[] = [];
      for (const party of ["provider", "consumer"] as const) {
        const v = keyValidAt(root, a.terms[party], a.signatures![party].signer, { block });
        if (!v.ok) throw new Fault(`the ${party}'s key: ${v.detail}`, `agreements[${k}].signatures.${party}.signer`);
        out.push(v.detail);
      }
      return `activated in block ${block}: ${out.join("; ")}`;
    });
  });
}

/** The checkpoint is the log's anchor `checkpoint.anchor.index` on chain. */
async function verifyAnchor(b: PeriodBundle, rpcUrl: string, c: Checks): Promise<void> {
  const cp = b.checkpoint;
  let detail: string;
  let ok = true;
  const provider = makeProvider(rpcUrl, BigInt(b.chain.chainId));
  try {
    const onChain = await LogAnchors__factory.connect(b.chain.contracts.anchors, provider).checkpointAt(b.log.logId, cp.anchor.index);
    ok = Number(onChain.treeSize) === cp.treeSize && onChain.root.toLowerCase() === String(cp.root).toLowerCase() && Number(onChain.blockNumber) === cp.anchor.block;
    detail = ok
      ? `LogAnchors.checkpointAt(${b.log.logId}, ${cp.anchor.index}) = (${cp.treeSize}, ${cp.root}) in block ${cp.anchor.block}`
      : `anchor ${cp.anchor.index} on chain is (${onChain.treeSize}, ${onChain.root}) in block ${onChain.blockNumber}, the bundle says (${cp.treeSize}, ${cp.root}) in block ${cp.anchor.block}`;
  } catch (err) {
    ok = false;
    detail = `cannot read anchor ${cp.anchor?.index} of log ${b.log.logId}: ${(err as Error).message.split(" (")[0]}`;
  } finally {
    provider.destroy();
  }
  c.list.push({ name: "chain.anchor", ok, detail, where: "checkpoint.anchor" });
}
