/**
 * Writes test/vectors/trust-root.json (docs/formats.md §6): a trust root, its fingerprint, and key
 * validity at given moments, from node/trust/trust-root.ts. test/node/formats-trust.test.ts rebuilds
 * every value from the written rules.
 *   npx ts-node --transpile-only scripts/vectors/make-trust-root-vector.ts [--check]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { codeId, ROLES } from "../../node/chain/ids";
import { keyValidAt, parseTrustRoot, trustRootFingerprint, TRUST_ROOT_VERSION } from "../../node/trust/trust-root";
const p = (block: number, timestamp: number) => ({ block, timestamp });
const t0 = 1_790_000_000;
const root = parseTrustRoot({
  version: TRUST_ROOT_VERSION, chainId: "31337",
  registry: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
  contracts: { registry: "0x5fbdb2315678afecb367f032d93f642f64180aa3", catalog: "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512", anchors: "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0", agreements: "0xcf7ed3acca5a467e9e704c703e8d87f634fb0fc9", consents: "0xdc64a140aa3e981100a9beca4e685f962f0cf6c9", transfers: "0x5fc8d32690cc91d4c39d9d3abc3ac1af7e2d4a2b" },
  deployedAtBlock: 1,
  takenAt: { block: 100, hash: "0x" + "ab".repeat(32), timestamp: t0 + 100 },
  departments: [
    { id: codeId("cq.bigdata"), level: 1, parent: "0x" + "00".repeat(32), registered: p(10, t0 + 10), active: [{ from: p(10, t0 + 10), until: null }],
      signers: [
        { address: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", from: p(10, t0 + 10), until: p(50, t0 + 50) },
        { address: "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc", from: p(40, t0 + 40), until: null },
      ] },
    { id: codeId("cq.tax"), level: 1, parent: "0x" + "00".repeat(32), registered: p(11, t0 + 11), active: [{ from: p(11, t0 + 11), until: p(60, t0 + 60) }, { from: p(70, t0 + 70), until: null }],
      signers: [{ address: "0x90f79bf6eb2c4f870365e785982e1f101e93b906", from: p(11, t0 + 11), until: null }] },
  ],
  roles: [{ role: "REGULATOR", roleId: ROLES.regulator, account: "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65", from: p(12, t0 + 12), until: null }],
  logs: [{ logId: codeId("log.cq.bigdata.0"), operator: codeId("cq.bigdata"), registered: p(13, t0 + 13) }],
});
const cases = [
  ["cq.bigdata", "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", { block: 49 }],
  ["cq.bigdata", "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", { block: 50 }],
  ["cq.bigdata", "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", { timestamp: t0 + 49 }],
  ["cq.bigdata", "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", { timestamp: t0 + 50 }],
  ["cq.bigdata", "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc", { block: 39 }],
  ["cq.bigdata", "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc", { block: 40 }],
  ["cq.bigdata", "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc", { block: 500 }],
  ["cq.tax", "0x90f79bf6eb2c4f870365e785982e1f101e93b906", { block: 59 }],
  ["cq.tax", "0x90f79bf6eb2c4f870365e785982e1f101e93b906", { block: 65 }],
  ["cq.tax", "0x90f79bf6eb2c4f870365e785982e1f101e93b906", { block: 70 }],
  ["cq.tax", "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", { block: 20 }],
  ["cq.water", "0x90f79bf6eb2c4f870365e785982e1f101e93b906", { block: 20 }],
] as const;
const out = {
  description: "A trust root (docs/formats.md §6), its fingerprint (SHA-256 of its RFC 8785 canonical JSON), and whether keys were valid for their department at given moments (acts on chain by block, the operator's own signatures by time). Hardhat dev addresses; blocks and times illustrative.",
  trustRoot: root,
  fingerprint: trustRootFingerprint(root),
  cases: cases.map(([dept, key, at]) => ({ department: codeId(dept), departmentCode: dept, key, at, valid: keyValidAt(root, codeId(dept), key, at as never).ok })),
};
const file = join(__dirname, "../../test/vectors/trust-root.json");
const text = JSON.stringify(out, null, 2) + "\n";
if (process.argv.includes("--check")) {
  if (readFileSync(file, "utf8") !== text) {
    console.error("test/vectors/trust-root.json is out of date");
    process.exit(1);
  }
  console.log("trust-root.json up to date");
} else {
  writeFileSync(file, text);
  console.log(`wrote ${file}: fingerprint ${out.fingerprint}`);
}
