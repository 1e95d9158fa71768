/**
 * Writes the test vectors of docs/formats.md into test/vectors/ with dcl's own code (node/...), from
 * fixed inputs and Hardhat's well-known development keys, so that every run writes the same bytes
 * (ECDSA signatures are RFC 6979 deterministic):
 *
 *   npx ts-node --transpile-only scripts/vectors/make-vectors.ts          # write the files
 *   npx ts-node --transpile-only scripts/vectors/make-vectors.ts --check  # exit 1 if a file would change
 *
 * The tests (test/node/formats-*.test.ts) rebuild every value from the rules of docs/formats.md
 * written independently in the test, and check dcl's code against the same values. The existing
 * test/vectors/access-entry.json and request-signature.json are not written here.
 *
 * Chain references in the evidence-bundle vector (transaction hashes, blocks, anchor times) are
 * illustrative: the bundle verifies offline, but names no transaction on any chain.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256 } from "@noble/hashes/sha2";
import { HDNodeWallet, Mnemonic, TypedDataEncoder, Wallet, ZeroAddress, getCreateAddress, hashMessage, id as keccakUtf8 } from "ethers";
import type { TypedDataField } from "ethers";
import { AccessLedger } from "../../node/access/access-ledger";
import { codeId } from "../../node/chain/ids";
import {
  AGREEMENT_CANCELLATION_TYPES, AGREEMENT_REVOCATION_TYPES, AGREEMENT_STATUS_TYPES, AGREEMENT_TYPES, CONSENT_CANCELLATION_TYPES, CONSENT_TYPES, COUNCIL_CALL_TYPES,
  REGULATOR_REVOCATION_TYPES, TRANSFER_CANCELLATION_TYPES, DISPUTE_TYPES, DOMAIN_NAMES, RECOVERY_VETO_TYPES, SIGNER_CHANGE_TYPES,
  RECONCILIATION_TYPES, REVOCATION_TYPES, TRANSFER_TYPES, domainOf,
} from "../../node/chain/typed-data";
import { EvidenceService } from "../../node/evidence/evidence-service";
import { CheckpointSigner } from "../../node/log/checkpoint-signer";
import { encodeEntry, type AccessLogEntry } from "../../node/log/entry";
import { MerkleLog } from "../../node/log/merkle-log";
import { MemoryTree } from "../../node/merkle/memory-tree";
import { normaliseIdNumber } from "../../node/subjects/subject-secrets";
import { canonicalBytes } from "../../node/transfers/fee-records";
import {
  canonicalJson, concatBytes, fromHex, personalMessageHash, receiptSigningPayload, sealDigest, sealSigningPayload, toHex,
} from "../../node/verify";

const OUT = join(__dirname, "../../test/vectors");
const enc = new TextEncoder();
const dec = new TextDecoder();
const hex = (b: Uint8Array) => toHex(b);
const sha = (b: Uint8Array | string) => toHex(sha256(typeof b === "string" ? enc.encode(b) : b));

// ---------------------------------------------------------------------------------------------
// Fixed inputs: Hardhat's development accounts (mnemonic "test test … junk"), as in the contract
// tests' fixture: #1 governor, #2 regulator, #4 big-data bureau (log operator), #5 tax, #7 water,
// #9 civil affairs, #11 a data subject's own key.

const MNEMONIC = Mnemonic.fromPhrase("test test test test test test test test test test test junk");
const account = (i: number) => {
  const w = HDNodeWallet.fromMnemonic(MNEMONIC, `m/44'/60'/0'/0/${i}`);
  return { index: i, privateKey: w.privateKey, address: w.address, wallet: new Wallet(w.privateKey) };
};
const A = { deployer: account(0), regulator: account(2), operator: account(4), tax: account(5), water: account(7), civil: account(9), subject: account(11) };
const keyJson = (a: ReturnType<typeof account>) => ({ hardhatAccount: a.index, privateKey: a.privateKey, address: a.address });

const CHAIN_ID = 31337n;
// The addresses a fresh chain gives the contracts deployed by account #0 in deployDcl's order (nonces 0-5); the council's is illustrative.
const at = (nonce: number) => getCreateAddress({ from: A.deployer.address, nonce });
const CONTRACTS = { registry: at(0), catalog: at(1), anchors: at(2), agreements: at(3), consents: at(4), transfers: at(5) };
/** Where the EIP-712 vectors' contracts are: the deployment's, and a governance council (not part of DclAddresses). */
const SIGNING_CONTRACTS = { ...CONTRACTS, council: at(6) };

const DEPT = { bigdata: codeId("cq.bigdata"), tax: codeId("cq.tax"), water: codeId("cq.water"), civil: codeId("cq.civil") };
const RES = { waterFees: codeId("res.water.fees"), residents: codeId("res.civil.residents") };
const LOG_CODE = "log.cq.bigdata.0";
const LOG_ID = codeId(LOG_CODE);
const ORIGIN = `dcl/${CHAIN_ID}/${LOG_CODE}`;
const T0 = 1767225600; // 2026-01-01T00:00:00Z
const PURPOSE = "collect non-tax fees";
const PURPOSE_HASH = keccakUtf8(PURPOSE);
const ZERO32 = "0x" + "00".repeat(32);

// ---------------------------------------------------------------------------------------------
// Subject commitments.

const COMMIT_TAG = "dcl-subject-commitment-v1";
function commitment(secret: string, idNumber: string) {
  const norm = normaliseIdNumber(idNumber);
  const tag = concatBytes(enc.encode(COMMIT_TAG), new Uint8Array([0]));
  const preimage = concatBytes(tag, fromHex(secret), enc.encode(norm));
  return { idNumber, normalised: norm, secret, tag: hex(tag), idBytes: hex(enc.encode(norm)), preimage: hex(preimage), commitment: sha(preimage) };
}
const SUBJECTS = [
  commitment(sha("vector subject secret 1"), "50010119900101123x"),
  commitment(sha("vector subject secret 2"), "500101198001010011"),
];

// ---------------------------------------------------------------------------------------------
// Agreements, consent (EIP-712 terms in their JSON form: integers beyond 2^53 as decimal strings).

const agreementA = {
  provider: DEPT.water, consumer: DEPT.tax, resource: RES.waterFees, purposeHash: PURPOSE_HASH,
  quota: "100", validFrom: String(T0 - 86400), validUntil: String(T0 + 30 * 86400), nonce: "1", meteringLog: codeId(LOG_CODE),
};
const agreementB = {
  provider: DEPT.civil, consumer: DEPT.tax, resource: RES.residents, purposeHash: PURPOSE_HASH,
  quota: "1000", validFrom: String(T0 - 86400), validUntil: String(T0 + 30 * 86400), nonce: "2", meteringLog: codeId(LOG_CODE),
};
const consentC = {
  subject: SUBJECTS[0].commitment, grantee: DEPT.tax, resource: RES.residents, purposeHash: PURPOSE_HASH, kind: 1,
  validUntil: String(T0 + 365 * 86400), evidenceHash: keccakUtf8("signed consent form #1"), recorder: DEPT.civil,
  subjectSigner: A.subject.address, nonce: "3",
};

const big = (o: Record<string, unknown>, fields: string[]) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fields.includes(k) ? BigInt(v as string) : v]));
const agreementValue = (t: typeof agreementA) => big(t, ["quota", "validFrom", "validUntil", "nonce"]);
const consentValue = (t: typeof consentC) => big(t, ["validUntil", "nonce"]);
const AGREEMENT_A_ID = TypedDataEncoder.hashStruct("Agreement", AGREEMENT_TYPES, agreementValue(agreementA));
const AGREEMENT_B_ID = TypedDataEncoder.hashStruct("Agreement", AGREEMENT_TYPES, agreementValue(agreementB));
const CONSENT_C_ID = TypedDataEncoder.hashStruct("Consent", CONSENT_TYPES, consentValue(consentC));

// ---------------------------------------------------------------------------------------------
// The log: six access entries.

const entry = (n: number, over: Partial<AccessLogEntry>): AccessLogEntry => ({
  time: T0 + n, consumerDept: DEPT.tax, providerDept: DEPT.water, resourceId: RES.waterFees, agreementId: AGREEMENT_A_ID,
  purposeHash: PURPOSE_HASH, recordCount: 0, requestHash: sha(`request ${n}`), responseHash: sha(`response ${n}`),
  subjectCommitment: null, outcome: "served", refusalReason: "", ...over,
});
const personal = { providerDept: DEPT.civil, resourceId: RES.residents, agreementId: AGREEMENT_B_ID };
const LOG: AccessLogEntry[] = [
  entry(0, { recordCount: 40 }),
  entry(1, { recordCount: 30 }),
  entry(2, { outcome: "refused", refusalReason: "QUOTA_EXCEEDED" }),
  entry(3, { providerDept: ZERO32, resourceId: ZERO32, agreementId: keccakUtf8("no such agreement"), purposeHash: ZERO32, outcome: "refused", refusalReason: "AGREEMENT_UNKNOWN" }),
  entry(4, { ...personal, recordCount: 1, subjectCommitment: SUBJECTS[0].commitment }),
  entry(5, { ...personal, outcome: "refused", refusalReason: "SUBJECT_REQUIRED" }),
];
const EARLIER_SIZE = 3;
const BUNDLE_INDICES = [1, 2, 4];

// ---------------------------------------------------------------------------------------------
// Merkle tree: the RFC 6962 / certificate-transparency test leaves.

const CT_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map((h) => fromHex("0x" + h));

function merkleVector() {
  const leafHashes = CT_LEAVES.map((l) => new MemoryTree([l]).leafHash(0));
  const roots = [];
  for (let n = 0; n <= CT_LEAVES.length; n++) roots.push({ size: n, root: hex(new MemoryTree(CT_LEAVES.slice(0, n)).root()) });
  const inclusion = [];
  for (let n = 1; n <= CT_LEAVES.length; n++) {
    const tree = new MemoryTree(CT_LEAVES.slice(0, n));
    for (let m = 0; m < n; m++) inclusion.push({ index: m, size: n, leafHash: hex(tree.leafHash(m)), proof: tree.inclusionProof(m).map(hex), root: hex(tree.root()) });
  }
  return { leafHashes, roots, inclusion };
}

/** Consistency proofs for every pair of sizes 1 <= m <= n: RFC 6962 §2.1.2 SUBPROOF over MemoryTree roots (the log's own proofs are in evidence-bundle.json). */
function consistencyVector(leaves: Uint8Array[]) {
  const root = (a: number, b: number) => new MemoryTree(leaves.slice(a, b)).root();
  const split = (n: number) => { let k = 1; while (k * 2 < n) k *= 2; return k; };
  const subproof = (m: number, a: number, b: number, complete: boolean): Uint8Array[] => {
    const n = b - a;
    if (m === n) return complete ? [] : [root(a, b)];
    const k = split(n);
    return m <= k ? [...subproof(m, a, a + k, complete), root(a + k, b)] : [...subproof(m - k, a + k, b, false), root(a, a + k)];
  };
  const out = [];
  for (let n = 1; n <= leaves.length; n++) {
    for (let m = 1; m <= n; m++) out.push({ size1: m, size2: n, root1: hex(root(0, m)), root2: hex(root(0, n)), proof: subproof(m, 0, n, true).map(hex) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

function write(name: string, value: unknown, check: boolean, changed: string[]) {
  const path = join(OUT, name);
  const text = JSON.stringify(value, null, 2) + "\n";
  let old = "";
  try {
    old = readFileSync(path, "utf8");
  } catch {
    /* new file */
  }
  if (old !== text) changed.push(name);
  if (!check) writeFileSync(path, text);
}

function typedCase(
  name: string, contract: keyof typeof DOMAIN_NAMES, types: Record<string, TypedDataField[]>, primaryType: string,
  message: Record<string, unknown>, value: Record<string, unknown>, signers: { role: string; key: ReturnType<typeof account> }[], idOf?: string,
) {
  const encoder = TypedDataEncoder.from(types);
  const domain = domainOf(DOMAIN_NAMES[contract], CHAIN_ID, SIGNING_CONTRACTS[contract]);
  const structHash = encoder.hashStruct(primaryType, value);
  return {
    name,
    contract: { council: "GovernanceCouncil", registry: "DepartmentRegistry", agreements: "SharingAgreements", consents: "ConsentRegistry", transfers: "NonTaxTransfers" }[contract],
    verifyingContract: SIGNING_CONTRACTS[contract],
    primaryType,
    typeString: encoder.encodeType(primaryType),
    typeHash: keccakUtf8(encoder.encodeType(primaryType)),
    message,
    encodeData: encoder.encodeData(primaryType, value),
    structHash,
    ...(idOf ? { id: { of: idOf, value: structHash } } : {}),
    digest: TypedDataEncoder.hash(domain, types, value),
    signatures: signers.map(({ role, key }) => ({ role, signer: keyJson(key), signature: key.wallet.signingKey.sign(TypedDataEncoder.hash(domain, types, value)).serialized })),
  };
}

async function main() {
  const check = process.argv.includes("--check");
  const changed: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), "dcl-vectors-"));
  try {
    // ---- Merkle trees
    const mv = merkleVector();
    write("merkle-tree.json", {
      description:
        "RFC 6962 Merkle tree hashing as dcl uses it (docs/formats.md §3): leaf hash SHA-256(0x00 || d), interior node SHA-256(0x01 || left || right), " +
        "the root of the empty tree SHA-256(\"\"); inclusion proofs (audit paths, leaf to root) and consistency proofs for every pair of sizes of the " +
        "certificate-transparency test leaves. Verify with RFC 9162 §2.1.3.2 and §2.1.4.2. Roots and inclusion proofs written by node/merkle/memory-tree.ts; " +
        "consistency proofs by RFC 6962 SUBPROOF over its roots (the log's own consistency proofs, from node/log/merkle-log.ts, are in evidence-bundle.json).",
      leaves: CT_LEAVES.map(hex),
      leafHashes: mv.leafHashes.map(hex),
      roots: mv.roots,
      inclusion: mv.inclusion,
      consistency: consistencyVector(CT_LEAVES),
      invalid: {
        description: "proofs a verifier MUST reject (each differs from a valid one above in one way)",
        inclusion: [
          { why: "index not below size", index: 3, size: 3, leafHash: hex(mv.leafHashes[3]), proof: [], root: mv.roots[3].root },
          { why: "one hash too many", index: 0, size: 2, leafHash: hex(mv.leafHashes[0]), proof: [hex(mv.leafHashes[1]), hex(mv.leafHashes[1])], root: mv.roots[2].root },
          { why: "one hash too few", index: 2, size: 5, leafHash: hex(mv.leafHashes[2]), proof: mv.inclusion.find((c) => c.index === 2 && c.size === 5)!.proof.slice(0, -1), root: mv.roots[5].root },
          { why: "leaf and sibling swapped", index: 0, size: 2, leafHash: hex(mv.leafHashes[1]), proof: [hex(mv.leafHashes[0])], root: mv.roots[2].root },
        ],
        consistency: [
          { why: "from the empty tree (dcl refuses: it proves nothing)", size1: 0, size2: 3, root1: mv.roots[0].root, root2: mv.roots[3].root, proof: [] },
          { why: "equal sizes with a non-empty proof", size1: 4, size2: 4, root1: mv.roots[4].root, root2: mv.roots[4].root, proof: [mv.roots[4].root] },
          { why: "size1 greater than size2", size1: 5, size2: 3, root1: mv.roots[5].root, root2: mv.roots[3].root, proof: [] },
          { why: "old root changed", size1: 3, size2: 7, root1: mv.roots[4].root, root2: mv.roots[7].root, proof: (consistencyVector(CT_LEAVES)).find((c) => c.size1 === 3 && c.size2 === 7)!.proof },
        ],
      },
    }, check, changed);

    // ---- The log, its checkpoints and receipts
    const log = await MerkleLog.open(join(dir, "log"));
    await log.appendMany(LOG.slice(0, EARLIER_SIZE));
    await log.appendMany(LOG.slice(EARLIER_SIZE));
    const size = log.size();
    const root = hex(await log.root(size));
    const earlierRoot = hex(await log.root(EARLIER_SIZE));
    const operator = A.operator.wallet;
    const checkpoints = new CheckpointSigner(log, operator, ORIGIN);
    const signed = await checkpoints.sign(size);
    const body = signed.note.slice(0, signed.note.indexOf("\n\n") + 1);
    const sigLine = signed.note.slice(signed.note.indexOf("\n\n") + 2);
    const sigBytes = Buffer.from(sigLine.slice(sigLine.lastIndexOf(" ") + 1, -1), "base64");
    write("checkpoint.json", {
      description:
        "A dcl checkpoint (docs/formats.md §5): a C2SP tlog-checkpoint body signed with EIP-191 personal_sign by the log operator's secp256k1 key; " +
        "the signature line is em dash, space, origin, space, base64(20-byte signer address || 65-byte r||s||v signature), newline. Written by node/log/checkpoint-signer.ts.",
      signer: keyJson(A.operator),
      origin: ORIGIN,
      treeSize: size,
      root,
      rootBase64: Buffer.from(fromHex(root)).toString("base64"),
      body,
      bodyBytes: hex(enc.encode(body)),
      eip191Digest: hashMessage(enc.encode(body)),
      signature: hex(sigBytes.subarray(20)),
      signatureLineBytes: hex(sigBytes),
      signatureLine: sigLine,
      note: signed.note,
    }, check, changed);

    const audit = { allUsage: () => new Map<string, bigint>() };
    const ledger = new AccessLedger({ log, indexer: undefined as never, audit: audit as never, signer: operator, origin: ORIGIN });
    const leafHashes = await Promise.all(LOG.map((_, i) => log.leafHashAt(i)));
    const first = EARLIER_SIZE;
    const batchHashes = leafHashes.slice(first);
    const receipts = ledger.receipts(first, batchHashes);
    const receiptText = dec.decode(receiptSigningPayload(ORIGIN, first, batchHashes.length, receipts[0].batch.root));
    write("receipt.json", {
      description:
        "dcl receipts (docs/formats.md §4): the operator signs once per appended batch, with EIP-191 personal_sign, the text " +
        "\"dcl-receipt/v2\\n<origin>\\n<first index>\\n<count>\\n<batch root, lower-case 0x-hex>\\n\" (final newline included), where the batch root is the RFC 6962 root " +
        "over the batch's leaf hashes used as leaf hashes (not hashed again). Written by node/access/access-ledger.ts (AccessLedger.receipts).",
      signer: keyJson(A.operator),
      origin: ORIGIN,
      first,
      count: batchHashes.length,
      leafHashes: batchHashes.map(hex),
      batchRoot: receipts[0].batch.root,
      signedText: receiptText,
      signedBytes: hex(enc.encode(receiptText)),
      eip191Digest: hex(personalMessageHash(enc.encode(receiptText))),
      signature: receipts[0].signature,
      receipts,
    }, check, changed);

    // ---- Agreements and the consent, signed
    const agreementsDomain = domainOf(DOMAIN_NAMES.agreements, CHAIN_ID, CONTRACTS.agreements);
    const consentsDomain = domainOf(DOMAIN_NAMES.consents, CHAIN_ID, CONTRACTS.consents);
    const signTyped = (key: ReturnType<typeof account>, domain: ReturnType<typeof domainOf>, types: Record<string, TypedDataField[]>, value: Record<string, unknown>) =>
      key.wallet.signingKey.sign(TypedDataEncoder.hash(domain, types, value)).serialized;
    const agreementSigs = (t: typeof agreementA, provider: ReturnType<typeof account>) => ({
      provider: { signer: provider.address, signature: signTyped(provider, agreementsDomain, AGREEMENT_TYPES, agreementValue(t)) },
      consumer: { signer: A.tax.address, signature: signTyped(A.tax, agreementsDomain, AGREEMENT_TYPES, agreementValue(t)) },
    });
    const illustrativeTx = (what: string) => keccakUtf8(`illustrative transaction: ${what}`);

    // ---- The evidence bundle
    const entries = await Promise.all(BUNDLE_INDICES.map(async (index) => {
      const leafHash = hex(await log.leafHashAt(index));
      return {
        index, canonical: hex(await log.get(index)), entry: await log.getEntry(index), leafHash,
        proof: (await log.inclusionProof(index, size)).map(hex), receipt: ledger.receipt(index, leafHash),
      };
    }));
    const unsealed = {
      version: "dcl-evidence/v1",
      createdAt: T0 + 60,
      chain: { chainId: CHAIN_ID.toString(), contracts: CONTRACTS },
      log: { logId: LOG_ID, origin: ORIGIN, operatorDepartment: DEPT.bigdata, operatorSigners: [A.operator.address] },
      checkpoint: { note: signed.note, treeSize: size, root, anchor: { index: 1, tx: illustrativeTx("anchor 1"), block: 21, timestamp: T0 + 10 } },
      earlierCheckpoints: [{
        index: 0, treeSize: EARLIER_SIZE, root: earlierRoot, tx: illustrativeTx("anchor 0"), block: 20,
        consistencyProof: (await log.consistencyProof(EARLIER_SIZE, size)).map(hex),
      }],
      entries,
      agreements: [
        { id: AGREEMENT_A_ID, terms: agreementA, signatures: agreementSigs(agreementA, A.water), activation: { tx: illustrativeTx("activate agreement A"), block: 10 }, state: { status: "active", quota: agreementA.quota, used: "70", statusChanges: 0 } },
        { id: AGREEMENT_B_ID, terms: agreementB, signatures: agreementSigs(agreementB, A.civil), activation: { tx: illustrativeTx("activate agreement B"), block: 11 }, state: { status: "active", quota: agreementB.quota, used: "1", statusChanges: 0 } },
      ],
      consents: [{
        id: CONSENT_C_ID, terms: consentC,
        recorderSignature: { signer: A.civil.address, signature: signTyped(A.civil, consentsDomain, CONSENT_TYPES, consentValue(consentC)) },
        subjectSignature: signTyped(A.subject, consentsDomain, CONSENT_TYPES, consentValue(consentC)),
        grantedAt: T0 - 3600, revokedAt: 0, grant: { tx: illustrativeTx("grant consent C"), block: 12 },
      }],
    };
    const sealer = { address: operator.address, signMessageSync: (m: Uint8Array) => operator.signMessageSync(m) };
    const bundle = new EvidenceService({ sealer } as never).seal(unsealed as never);
    const sealText = dec.decode(sealSigningPayload(unsealed));
    write("evidence-bundle.json", {
      description:
        "A complete sealed evidence bundle (docs/formats.md §7) over a log of six entries, with entries 1, 2 and 4, their inclusion proofs against the signed checkpoint " +
        "of size 6, receipts, one earlier checkpoint (size 3) with its consistency proof, two agreements and one consent with their EIP-712 signatures. " +
        "`log` lists the canonical bytes of every entry of the log (not part of the bundle) so the tree can be rebuilt. Transaction hashes, blocks and " +
        "anchor times are illustrative: the bundle verifies offline (`dcl verify`) but names no transaction on any chain. Written by node/evidence/evidence-service.ts (seal) and the log.",
      keys: { operator: keyJson(A.operator), tax: keyJson(A.tax), water: keyJson(A.water), civil: keyJson(A.civil), subject: keyJson(A.subject) },
      log: LOG.map((e) => hex(encodeEntry(e))),
      seal: { canonicalSha256: sealDigest(unsealed), signedText: sealText, eip191Digest: hex(personalMessageHash(enc.encode(sealText))) },
      bundle,
    }, check, changed);

    // ---- Seal over a JSON document with RFC 8785 corner cases
    const doc = {
      version: "dcl-evidence/v1",
      numbers: [0, -1, 9007199254740991, -9007199254740991, 1767225600],
      strings: { quote: "\"", backslash: "\\", slash: "/", controls: "\b\f\n\r\t\u0000\u001f", del: "\u007f", lineSeparator: "\u2028", cjk: "取水(渝)字", emoji: "😀" },
      literals: [true, false, null],
      order: { "b": 1, "a": 2, "A": 3, "aa": 4, "\u20ac": 5, "\ud83d\ude00": 6, "\ufb01": 7, "10": 8, "9": 9 },
      nested: [{ z: [], y: {} }],
    };
    const docSealer = A.operator.wallet;
    const docText = dec.decode(sealSigningPayload(doc));
    write("evidence-seal.json", {
      description:
        "The evidence seal (docs/formats.md §7.1): the operator signs, with EIP-191 personal_sign, \"dcl-evidence-seal/v1\\n\" followed by the lower-case 0x-hex SHA-256 of " +
        "the RFC 8785 (JCS) canonical JSON of the document without its `seal` member (no final newline). This document exercises JCS: member order by UTF-16 code units " +
        "(\\u20ac < \\ud83d\\ude00 < \\ufb01, unlike code-point order), escapes (only \\\", \\\\, \\b \\f \\n \\r \\t and \\u00XX for other controls), no escape for / or U+2028, " +
        "integers in plain decimal. Written by node/verify/canonical-json.ts and node/verify/seal.ts.",
      signer: keyJson(A.operator),
      document: doc,
      canonicalJson: canonicalJson(doc),
      canonicalBytes: hex(enc.encode(canonicalJson(doc))),
      sha256: sealDigest(doc),
      signedText: docText,
      eip191Digest: hex(personalMessageHash(enc.encode(docText))),
      seal: { signer: docSealer.address, signature: docSealer.signMessageSync(sealSigningPayload(doc)) },
    }, check, changed);

    // ---- Fee records
    const waterRecords = [
      { payer: "91500103MA60L1234B", permitNo: "取水(渝)字[2025]第0001号", period: "202512", volumeM3: "120000", rateFenPerM3: "15", amountFen: "1800000" },
      { payer: "91500108MA5YH0TQ3K", permitNo: "WR-2025-0002", period: "202512", volumeM3: "5000", rateFenPerM3: "15", amountFen: "75000" },
      { payer: "91500112MA61B2C3D4", permitNo: "WR-2025-0003", period: "202512", volumeM3: "0", rateFenPerM3: "15", amountFen: "0" },
    ];
    const cadRecord = { payer: "91500103MA60L1234B", constructionPermitNo: "500103202500012", areaM2: "1200", rateFenPerM2: "6000", amountFen: "7200000" };
    const recBytes = waterRecords.map((r) => canonicalBytes(r));
    const recTree = new MemoryTree(recBytes);
    const payloadText = `[${recBytes.map((b) => dec.decode(b)).join(",")}]`;
    const results = [
      { recordLeafHash: hex(recTree.leafHash(0)), paidFen: "1800000", paidDate: "20260115", voucherNo: "V2026-0001", status: "paid" },
      { recordLeafHash: hex(recTree.leafHash(1)), paidFen: "50000", paidDate: "20260120", voucherNo: "V2026-0002", status: "partially_paid" },
      { recordLeafHash: hex(recTree.leafHash(2)), paidFen: "0", paidDate: "20260131", voucherNo: "NONE", status: "unpaid" },
    ];
    const resBytes = results.map((r) => canonicalBytes(r));
    const resTree = new MemoryTree(resBytes);
    const transfer = {
      from: DEPT.water, to: DEPT.tax, category: codeId("water-resource-fee"), period: 202512, recordCount: String(waterRecords.length),
      totalFen: waterRecords.reduce((s, r) => s + BigInt(r.amountFen), 0n).toString(), recordsRoot: hex(recTree.root()),
      payloadHash: sha(payloadText), parents: [keccakUtf8("illustrative parent transfer 1"), keccakUtf8("illustrative parent transfer 2")], nonce: "7",
    };
    const reconciliation = {
      collectedCount: String(results.filter((r) => r.status !== "unpaid").length),
      collectedFen: results.reduce((s, r) => s + BigInt(r.paidFen), 0n).toString(),
      resultsRoot: hex(resTree.root()),
    };
    write("fee-records.json", {
      description:
        "Non-tax fee records (docs/formats.md §8): each record's canonical bytes are the RFC 8785 canonical JSON of its all-string object (UTF-8); the records root is the " +
        "RFC 6962 root over them (leaf hash SHA-256(0x00 || bytes)); the payload hash is SHA-256 of \"[\" + the canonical records joined by \",\" + \"]\"; the category id is " +
        "keccak256 of its code; collection results are hashed into the results root the same way. Written by node/transfers/fee-records.ts and node/merkle/memory-tree.ts.",
      category: { code: "water-resource-fee", id: codeId("water-resource-fee") },
      records: waterRecords.map((r, i) => ({
        record: r, canonical: dec.decode(recBytes[i]), canonicalBytes: hex(recBytes[i]), leafHash: hex(recTree.leafHash(i)), proof: recTree.inclusionProof(i).map(hex),
      })),
      recordsRoot: hex(recTree.root()),
      payload: payloadText,
      payloadHash: sha(payloadText),
      recordCount: transfer.recordCount,
      totalFen: transfer.totalFen,
      results: results.map((r, i) => ({ result: r, canonical: dec.decode(resBytes[i]), leafHash: hex(resTree.leafHash(i)), proof: resTree.inclusionProof(i).map(hex) })),
      resultsRoot: reconciliation.resultsRoot,
      collectedCount: reconciliation.collectedCount,
      collectedFen: reconciliation.collectedFen,
      otherCategory: { category: { code: "civil-air-defence-relocation-fee", id: codeId("civil-air-defence-relocation-fee") }, record: cadRecord, canonical: dec.decode(canonicalBytes(cadRecord)), leafHash: hex(new MemoryTree([canonicalBytes(cadRecord)]).leafHash(0)) },
    }, check, changed);

    // ---- Subject commitments
    write("subject-commitment.json", {
      description:
        "Subject commitments (docs/formats.md §9): commitment = SHA-256(\"dcl-subject-commitment-v1\" || 0x00 || secret || ID number), the secret 32 bytes, the ID number " +
        "normalised (surrounding whitespace removed, letters upper-cased) and UTF-8 encoded. The secrets here are fixed for the vector; a node draws them at random.",
      cases: SUBJECTS,
    }, check, changed);

    // ---- EIP-712
    const transferValue = big(transfer, ["recordCount", "totalFen", "nonce"]);
    const TRANSFER_ID = TypedDataEncoder.hashStruct("Transfer", TRANSFER_TYPES, transferValue);
    const recValue = { transferId: TRANSFER_ID, ...big(reconciliation, ["collectedCount", "collectedFen"]) };
    // grantRole(REGULATOR, regulator) on the registry, as calldata
    const councilCall = { target: CONTRACTS.registry, data: "0x2f2ff15d" + keccakUtf8("REGULATOR").slice(2) + A.regulator.address.slice(2).toLowerCase().padStart(64, "0"), nonce: 0 };
    const signerChange = { department: DEPT.tax, action: 1, signer: A.water.address.toLowerCase(), threshold: 2, nonce: 3 };
    const recoveryVeto = { department: DEPT.water, recoveryHash: keccakUtf8("recovery: add key, remove key, threshold 1") };
    const dispute = { transferId: TRANSFER_ID, department: DEPT.tax, leafIndex: 1, leafHash: hex(recTree.leafHash(1)), reasonHash: keccakUtf8("amount does not match the permit") };
    const status = { agreementId: AGREEMENT_A_ID, status: 2, reasonHash: keccakUtf8("suspected misuse"), nonce: 0 };
    const regulatorRevocation = { consentId: CONSENT_C_ID, reasonHash: keccakUtf8("recorder deactivated; withdrawn in writing") };
    const domains = (["council", "registry", "agreements", "consents", "transfers"] as const).map((c) => {
      const d = domainOf(DOMAIN_NAMES[c], CHAIN_ID, SIGNING_CONTRACTS[c]);
      return {
        contract: { council: "GovernanceCouncil", registry: "DepartmentRegistry", agreements: "SharingAgreements", consents: "ConsentRegistry", transfers: "NonTaxTransfers" }[c],
        name: d.name, version: d.version, chainId: CHAIN_ID.toString(), verifyingContract: d.verifyingContract,
        typeString: "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)",
        separator: TypedDataEncoder.hashDomain(d),
      };
    });
    write("eip712.json", {
      description:
        "Every EIP-712 struct dcl signs (docs/formats.md §10): domain separators, type strings, encodeData, hashStruct, the digest keccak256(0x1901 || separator || hashStruct) " +
        "and the signatures (r||s||v, v 27/28, RFC 6979) by the named development keys. Agreement, consent and transfer ids are their terms' hashStruct. " +
        "Messages are in the JSON form the API serves (uint64 and wider as decimal strings). Written with node/chain/typed-data.ts and ethers.",
      chainId: CHAIN_ID.toString(),
      contracts: SIGNING_CONTRACTS,
      domains,
      structs: [
        typedCase("agreement A (water -> tax)", "agreements", AGREEMENT_TYPES, "Agreement", agreementA, agreementValue(agreementA), [{ role: "provider", key: A.water }, { role: "consumer", key: A.tax }], "agreement"),
        typedCase("revocation of agreement A by its provider", "agreements", AGREEMENT_REVOCATION_TYPES, "AgreementRevocation", { agreementId: AGREEMENT_A_ID }, { agreementId: AGREEMENT_A_ID }, [{ role: "provider", key: A.water }]),
        typedCase("suspension of agreement A by the regulator", "agreements", AGREEMENT_STATUS_TYPES, "AgreementStatusChange", status, status, [{ role: "regulator", key: A.regulator }]),
        typedCase("consent C (subject signs too)", "consents", CONSENT_TYPES, "Consent", consentC, consentValue(consentC), [{ role: "recorder", key: A.civil }, { role: "subject", key: A.subject }], "consent"),
        typedCase("consent C with no subject key", "consents", CONSENT_TYPES, "Consent", { ...consentC, subjectSigner: ZeroAddress }, consentValue({ ...consentC, subjectSigner: ZeroAddress }), [{ role: "recorder", key: A.civil }], "consent"),
        typedCase("revocation of consent C", "consents", REVOCATION_TYPES, "Revocation", { consentId: CONSENT_C_ID }, { consentId: CONSENT_C_ID }, [{ role: "recorder", key: A.civil }, { role: "subject", key: A.subject }]),
        typedCase("water fee transfer with two parents", "transfers", TRANSFER_TYPES, "Transfer", transfer, transferValue, [{ role: "from", key: A.water }, { role: "to", key: A.tax }], "transfer"),
        typedCase("water fee transfer with no parents", "transfers", TRANSFER_TYPES, "Transfer", { ...transfer, parents: [] }, { ...transferValue, parents: [] }, [{ role: "from", key: A.water }], "transfer"),
        typedCase("reconciliation of the transfer", "transfers", RECONCILIATION_TYPES, "Reconciliation", { transferId: TRANSFER_ID, ...reconciliation }, recValue, [{ role: "from", key: A.water }, { role: "to", key: A.tax }]),
        typedCase("dispute of record 1 by the tax service", "transfers", DISPUTE_TYPES, "Dispute", dispute, dispute, [{ role: "disputing party", key: A.tax }]),
        typedCase("cancellation of agreement A by its consumer, before activation", "agreements", AGREEMENT_CANCELLATION_TYPES, "AgreementCancellation", { agreementId: AGREEMENT_A_ID }, { agreementId: AGREEMENT_A_ID }, [{ role: "consumer", key: A.tax }]),
        typedCase("revocation of consent C by the regulator", "consents", REGULATOR_REVOCATION_TYPES, "RegulatorRevocation", regulatorRevocation, regulatorRevocation, [{ role: "regulator", key: A.regulator }]),
        typedCase("cancellation of consent C before its grant", "consents", CONSENT_CANCELLATION_TYPES, "ConsentCancellation", { consentId: CONSENT_C_ID }, { consentId: CONSENT_C_ID }, [{ role: "recorder", key: A.civil }, { role: "subject", key: A.subject }]),
        typedCase("cancellation of the transfer by the tax service, before submission", "transfers", TRANSFER_CANCELLATION_TYPES, "TransferCancellation", { transferId: TRANSFER_ID }, { transferId: TRANSFER_ID }, [{ role: "to", key: A.tax }]),
        typedCase("removal of a key of the tax service, signed by two of its keys (threshold 2)", "registry", SIGNER_CHANGE_TYPES, "SignerChange", signerChange, signerChange, [{ role: "signer", key: A.tax }, { role: "signer", key: A.water }]),
        typedCase("veto of the governor's pending recovery of the water bureau", "registry", RECOVERY_VETO_TYPES, "RecoveryVeto", recoveryVeto, recoveryVeto, [{ role: "signer", key: A.water }]),
        typedCase("a council call: grant the regulator role (2 of the council's members sign)", "council", COUNCIL_CALL_TYPES, "CouncilCall", councilCall, councilCall, [{ role: "member", key: A.regulator }, { role: "member", key: A.operator }]),
      ],
    }, check, changed);

    await log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (check) {
    if (changed.length) {
      console.error(`vectors out of date: ${changed.join(", ")}`);
      process.exit(1);
    }
    console.log("vectors up to date");
  } else {
    console.log(`wrote ${changed.length ? changed.join(", ") : "nothing new"}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
