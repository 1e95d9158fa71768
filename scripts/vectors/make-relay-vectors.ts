/**
 * Writes test/vectors/relay-id.json with dcl's own code, from fixed inputs: the ids of relays
 * (docs/formats.md §15) of two calls — a co-signature-free governor's act (DepartmentRegistry
 * setDepartmentActive, recorded twice: attempts 0 and 1) and an agreement revocation carrying a
 * signature — with the calldata and the exact bytes hashed.
 *
 *   npx ts-node --transpile-only scripts/vectors/make-relay-vectors.ts          # write the file
 *   npx ts-node --transpile-only scripts/vectors/make-relay-vectors.ts --check  # exit 1 if it would change
 *
 * test/node/formats-relay.test.ts rebuilds every id from the written rule.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Interface } from "ethers";
import { DepartmentRegistry__factory, SharingAgreements__factory } from "../../typechain-types";
import { codeId } from "../../node/chain/ids";
import { relayId, relayIdPreimage } from "../../node/chain/outbox";

const OUT = join(__dirname, "../../test/vectors/relay-id.json");
const CHAIN_ID = 31337n;
const REGISTRY = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const AGREEMENTS = "0xcf7ed3acca5a467e9e704c703e8d87f634fb0fc9";

function vector() {
  const registry = new Interface(DepartmentRegistry__factory.abi);
  const agreements = new Interface(SharingAgreements__factory.abi);
  const calls = [
    { what: "setDepartmentActive(cq.tax, false), a governor's act", contract: "registry", to: REGISTRY, method: "setDepartmentActive", data: registry.encodeFunctionData("setDepartmentActive", [codeId("cq.tax"), false]) },
    {
      what: "revoke(agreementId, (signer, signature)), a provider's signed revocation", contract: "agreements", to: AGREEMENTS, method: "revoke",
      data: agreements.encodeFunctionData("revoke", [codeId("agreement vector"), { signer: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", signature: "0x" + "11".repeat(32) + "22".repeat(32) + "1b" }]),
    },
  ];
  const cases = [];
  for (const c of calls) {
    for (const attempt of c.method === "setDepartmentActive" ? [0, 1] : [0]) {
      cases.push({ ...c, data: c.data.toLowerCase(), chainId: CHAIN_ID.toString(), attempt, preimage: relayIdPreimage(CHAIN_ID, c.to, c.data, attempt), id: relayId(CHAIN_ID, c.to, c.data, attempt) });
    }
  }
  return { description: "relay ids (docs/formats.md §15): SHA-256(\"dcl-relay-v1\" ‖ uint64be(chainId) ‖ to ‖ uint32be(attempt) ‖ calldata)", tag: "dcl-relay-v1", cases };
}

const check = process.argv.includes("--check");
const text = JSON.stringify(vector(), null, 2) + "\n";
let before = "";
try {
  before = readFileSync(OUT, "utf8");
} catch {
  // a new file
}
if (check) {
  if (before !== text) {
    process.stderr.write("vectors out of date: relay-id.json\n");
    process.exit(1);
  }
  process.stdout.write("vectors up to date\n");
} else {
  writeFileSync(OUT, text);
  process.stdout.write(`wrote relay-id.json${before !== text ? " (changed)" : ""}\n`);
}
