/**
 * Writes the test vectors of docs/formats.md's period bundle and alert webhook sections, and of
 * entries with reported timing (§2, encoding 0x02), into
 * test/vectors/ with dcl's own code, from fixed inputs and Hardhat's development keys, so that every
 * run writes the same bytes:
 *
 *   npx ts-node --transpile-only scripts/vectors/make-period-vectors.ts          # write the files
 *   npx ts-node --transpile-only scripts/vectors/make-period-vectors.ts --check  # exit 1 if a file would change
 *
 * test/node/formats-period.test.ts rebuilds every value from the document's rules. The anchor's
 * transaction, block and time are illustrative: the bundle verifies offline but names no real chain.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256 } from "@noble/hashes/sha2";
import { HDNodeWallet, Mnemonic, Wallet, getCreateAddress, id as keccakUtf8 } from "ethers";
import type { Alert } from "../../node/alerts/alert";
import { alertId } from "../../node/alerts/alert";
import { webhookRequest } from "../../node/alerts/webhook";
import { AssessmentService } from "../../node/assessment/assessment-service";
import { codeId } from "../../node/chain/ids";
import { CheckpointSigner } from "../../node/log/checkpoint-signer";
import { encodeEntry, type AccessLogEntry } from "../../node/log/entry";
import { MerkleLog } from "../../node/log/merkle-log";
import { alertWebhookSigningPayload, compactRange, leafHash, personalMessageHash, sealDigest, sealSigningPayload, toHex } from "../../node/verify";

const OUT = join(__dirname, "../../test/vectors");
const enc = new TextEncoder();
const dec = new TextDecoder();
const sha = (s: string) => toHex(sha256(enc.encode(s)));

const MNEMONIC = Mnemonic.fromPhrase("test test test test test test test test test test test junk");
const account = (i: number) => {
  const w = HDNodeWallet.fromMnemonic(MNEMONIC, `m/44'/60'/0'/0/${i}`);
  return { hardhatAccount: i, privateKey: w.privateKey, address: w.address, wallet: new Wallet(w.privateKey) };
};
const DEPLOYER = account(0);
const OPERATOR = account(4); // the big-data bureau, log operator (as in make-vectors.ts)
const keyJson = (a: ReturnType<typeof account>) => ({ hardhatAccount: a.hardhatAccount, privateKey: a.privateKey, address: a.address });
const at = (nonce: number) => getCreateAddress({ from: DEPLOYER.address, nonce });
const CONTRACTS = { registry: at(0), catalog: at(1), anchors: at(2), agreements: at(3), consents: at(4), transfers: at(5) };
const CHAIN_ID = 31337n;
const LOG_CODE = "log.cq.bigdata.0";
const LOG_ID = codeId(LOG_CODE);
const ORIGIN = `dcl/${CHAIN_ID}/${LOG_CODE}`;
const DEPT = { bigdata: codeId("cq.bigdata"), tax: codeId("cq.tax"), water: codeId("cq.water"), civil: codeId("cq.civil"), yuzhong: codeId("cq.yuzhong.bigdata") };
const RES = { waterFees: codeId("res.water.fees"), residents: codeId("res.civil.residents") };
const T0 = 1790784000; // 2026-10-01T00:00:00+08:00, the start of 2026Q4
const ZERO32 = "0x" + "00".repeat(32);
const illustrativeTx = (what: string) => keccakUtf8(`illustrative transaction: ${what}`);

// ---- The log: 13 entries; the period [T0 + 10, T0 + 20) holds entries 4-9.
const FEES = keccakUtf8("vector agreement: water fees");
const PEOPLE = keccakUtf8("vector agreement: residents");
const entry = (n: number, time: number, over: Partial<AccessLogEntry> = {}): AccessLogEntry => ({
  time, consumerDept: DEPT.tax, providerDept: DEPT.water, resourceId: RES.waterFees, agreementId: FEES, purposeHash: keccakUtf8("collect non-tax fees"),
  recordCount: 0, requestHash: sha(`period request ${n}`), responseHash: sha(`period response ${n}`), subjectCommitment: null, outcome: "served", refusalReason: "", ...over,
});
const people = { consumerDept: DEPT.yuzhong, providerDept: DEPT.civil, resourceId: RES.residents, agreementId: PEOPLE, purposeHash: keccakUtf8("eligibility") };
const LOG: AccessLogEntry[] = [
  entry(0, T0 - 3600, { recordCount: 5 }),
  entry(1, T0 - 60, { recordCount: 5 }),
  entry(2, T0 + 1, { recordCount: 3 }),
  entry(3, T0 + 9, { recordCount: 2 }),
  entry(4, T0 + 10, { recordCount: 40, calledAt: T0 + 7, latencyMs: 310 }), // the period's first; reported timing (0x02)
  entry(5, T0 + 11, { outcome: "refused", refusalReason: "QUOTA_EXCEEDED" }),
  entry(6, T0 + 11, { ...people, recordCount: 1, subjectCommitment: sha("vector subject"), calledAt: T0 + 11 }),
  entry(7, T0 + 12, { ...people, outcome: "refused", refusalReason: "CONSENT_MISSING", subjectCommitment: sha("another subject") }),
  entry(8, T0 + 15, { providerDept: ZERO32, resourceId: ZERO32, agreementId: keccakUtf8("no such agreement"), purposeHash: ZERO32, outcome: "refused", refusalReason: "AGREEMENT_UNKNOWN" }),
  entry(9, T0 + 19, { recordCount: 10, latencyMs: 95 }), // the period's last
  entry(10, T0 + 20, { recordCount: 1 }),
  entry(11, T0 + 30, { recordCount: 1 }),
  entry(12, T0 + 31, { recordCount: 1 }),
];
const PERIOD = { from: T0 + 10, to: T0 + 20 };

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

async function periodVector() {
  const dir = mkdtempSync(join(tmpdir(), "dcl-period-vectors-"));
  const log = await MerkleLog.open(dir);
  try {
    await log.appendMany(LOG);
    const size = log.size();
    const root = toHex(await log.root());
    const checkpoints = new CheckpointSigner(log, OPERATOR.wallet, ORIGIN);
    const anchor = { logId: LOG_ID, index: 0, treeSize: size, root, block: 21, timestamp: T0 + 40, tx: illustrativeTx("anchor 0") };
    const indexer = {
      checkpoints: async () => [anchor],
      logOperator: async () => DEPT.bigdata,
      department: async () => ({ signers: [OPERATOR.address] }),
      syncOnce: async () => undefined,
    };
    const agreements = { get: async (id: string) => Promise.reject(new Error(`no draft of ${id}`)) };
    const service = new AssessmentService({
      log, indexer: indexer as never, agreements: agreements as never, checkpoints, sealer: OPERATOR.wallet, logId: LOG_ID, chainId: CHAIN_ID,
      addresses: CONTRACTS, now: () => T0 + 50,
    });
    const bundle = await service.bundle(PERIOD);
    const { seal: _seal, ...unsealed } = bundle;
    const { begin, end } = bundle.range;
    const [lo, hi] = [begin - 1, end + 1];
    // The proof's hashes, each with the subtree (leaves [index·2^level, (index+1)·2^level)) it is the hash of.
    const subtrees = (a: number, b: number, hashes: string[]) =>
      compactRange(a, b).map(({ level, index }, i) => ({ level, index, leaves: [index * 2 ** level, (index + 1) * 2 ** level], hash: hashes[i] }));
    return {
      description:
        "A period bundle (docs/formats.md, period bundles): the 13-entry log below, the period [from, to) of entries 4-9, proven against a checkpoint of size 13 by a range proof over entries 3-10 (the period's entries and their neighbours). Anchor transaction, block and time are illustrative. Written by node/assessment/assessment-service.ts.",
      operator: keyJson(OPERATOR),
      period: PERIOD,
      log: { origin: ORIGIN, entries: LOG.map((e) => toHex(encodeEntry(e))), leafHashes: LOG.map((e) => toHex(leafHash(encodeEntry(e)))), root },
      proof: { lo, hi, left: subtrees(0, lo, bundle.proof.left), right: subtrees(hi, size, bundle.proof.right) },
      seal: { canonicalJsonSha256: sealDigest(unsealed), signedText: dec.decode(sealSigningPayload(unsealed)), eip191Digest: toHex(personalMessageHash(sealSigningPayload(unsealed))) },
      bundle,
    };
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function webhookVector() {
  const key = `quota_exhausted:${FEES}`;
  const alert: Alert = {
    id: alertId(key), key, seq: 7, rule: "quota_exhausted", severity: "warning", raisedAt: T0 + 11, department: DEPT.water, agreementId: FEES,
    message: `a call by ${DEPT.tax} under agreement ${FEES} was refused for going beyond its quota (90 of 100 records served)`,
    evidence: { index: 5, used: "90", quota: "100", consumer: DEPT.tax, refusalReason: "QUOTA_EXCEEDED" },
  };
  const timestamp = T0 + 12;
  const { body, headers } = webhookRequest(alert, ORIGIN, timestamp, OPERATOR.wallet);
  const payload = alertWebhookSigningPayload(ORIGIN, timestamp, body);
  return {
    description: "A signed alert webhook delivery (docs/formats.md, alert webhook): the alert, the exact body (its RFC 8785 canonical JSON), the text signed with EIP-191 by the log operator, and the headers. Written by node/alerts/webhook.ts.",
    operator: keyJson(OPERATOR),
    origin: ORIGIN,
    timestamp,
    alert,
    idPreimage: key,
    body: dec.decode(body),
    bodySha256: toHex(sha256(body)),
    signedText: dec.decode(payload),
    eip191Digest: toHex(personalMessageHash(payload)),
    signature: headers["x-dcl-signature"],
    headers,
  };
}

/** Entries with reported timing (encoding 0x02), and the 0x01 encoding of the same entry without it. */
function timedEntriesVector() {
  const cases = [
    { name: "served, calledAt and latencyMs", entry: LOG[4] },
    { name: "served, personal data, calledAt only", entry: LOG[6] },
    { name: "served, latencyMs only", entry: LOG[9] },
    { name: "refused, calledAt and latencyMs", entry: { ...LOG[5], calledAt: T0 + 2, latencyMs: 0 } },
  ];
  return {
    description: "Access-log entries with the timing the consumer reported (docs/formats.md §2, encoding 0x02): each entry, its canonical bytes, its leaf hash, and the 0x01 bytes of the same entry without timing.",
    cases: cases.map(({ name, entry: e }) => {
      const { calledAt: _c, latencyMs: _l, ...untimed } = e;
      const canonical = encodeEntry(e);
      return { name, entry: e, canonical: toHex(canonical), leafHash: toHex(leafHash(canonical)), withoutTiming: toHex(encodeEntry(untimed)) };
    }),
  };
}

async function main() {
  const check = process.argv.includes("--check");
  const changed: string[] = [];
  write("period-bundle.json", await periodVector(), check, changed);
  write("alert-webhook.json", webhookVector(), check, changed);
  write("access-entry-timed.json", timedEntriesVector(), check, changed);
  if (check && changed.length) {
    process.stderr.write(`vectors out of date: ${changed.join(", ")}\n`);
    process.exit(1);
  }
  process.stdout.write(check ? "vectors up to date\n" : `wrote ${["period-bundle.json", "alert-webhook.json", "access-entry-timed.json"].join(", ")}${changed.length ? ` (changed: ${changed.join(", ")})` : ""}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
