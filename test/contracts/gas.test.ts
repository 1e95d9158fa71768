/**
 * Gas of dcl's hot paths, measured from transaction receipts against an EAS attestation of the same
 * consent in the same run. Gas is deterministic for fixed inputs, so the targets are asserted.
 * `npm run gas` also writes the table to docs/gas.md. Tagged @gas-report: .solcover.js leaves these
 * tests out of coverage runs, where instrumentation inflates every number.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { UniformTree } from "./uniform-tree";
import type { ContractTransactionResponse } from "ethers";
import easArtifact from "@ethereum-attestation-service/eas-contracts/artifacts/contracts/EAS.sol/EAS.json";
import schemaRegistryArtifact from "@ethereum-attestation-service/eas-contracts/artifacts/contracts/SchemaRegistry.sol/SchemaRegistry.json";
import { deployedWithDepartments, DEPT, LOG_ID, RESOURCE } from "./fixture";
import {
  AGREEMENT_CANCELLATION_TYPES,
  AGREEMENT_REVOCATION_TYPES,
  AGREEMENT_STATUS_TYPES,
  AGREEMENT_TYPES,
  AgreementStatus,
  CONSENT_CANCELLATION_TYPES,
  CONSENT_TYPES,
  COUNCIL_CALL_TYPES,
  RECOVERY_VETO_TYPES,
  SIGNER_CHANGE_TYPES,
  SignerAction,
  ConsentKind,
  DISPUTE_TYPES,
  DOMAIN_NAMES,
  domainOf,
  RECONCILIATION_TYPES,
  REGULATOR_REVOCATION_TYPES,
  REVOCATION_TYPES,
  TRANSFER_CANCELLATION_TYPES,
  TRANSFER_TYPES,
  type AgreementStatusChange,
  type AgreementTerms,
  type ConsentTerms,
  type Dispute,
  type Reconciliation,
  type TransferBatch,
} from "../../node/chain/typed-data";
import { codeId, ROLES } from "../../node/chain/ids";
import { GovernanceCouncil__factory } from "../../typechain-types";
import { encodeRecord, hex, inclusionProof, leafHash, rootOf } from "./records-tree";

const CONSENT_SCHEMA =
  "bytes32 subject,bytes32 grantee,bytes32 resource,bytes32 purposeHash,uint8 kind,uint64 validUntil,bytes32 evidenceHash,bytes32 recorder";

// A fixed far-future expiry keeps calldata, and so gas, identical from run to run.
const VALID_UNTIL = 4_102_444_800n; // 2100-01-01

const RECORD_BYTES = [1, 2, 3, 4, 5].map((i) =>
  encodeRecord({ payer: `91500000MA5U0000${i}1`, item: "water-resource-fee", period: 202610, assessedFen: 10_000 * i }),
);
const LEAVES = RECORD_BYTES.map(leafHash);

async function gasDeployed() {
  const d = await deployedWithDepartments();
  const schemaRegistry = await new ethers.ContractFactory(
    schemaRegistryArtifact.abi,
    schemaRegistryArtifact.bytecode,
    d.a.deployer,
  ).deploy();
  const eas = await new ethers.ContractFactory(easArtifact.abi, easArtifact.bytecode, d.a.deployer).deploy(
    await schemaRegistry.getAddress(),
  );
  await (await schemaRegistry.getFunction("register")(CONSENT_SCHEMA, ethers.ZeroAddress, true)).wait();
  const schemaUid = ethers.solidityPackedKeccak256(["string", "address", "bool"], [CONSENT_SCHEMA, ethers.ZeroAddress, true]);
  const domains = {
    consents: domainOf(DOMAIN_NAMES.consents, d.chainId, await d.consents.getAddress()),
    transfers: domainOf(DOMAIN_NAMES.transfers, d.chainId, await d.transfers.getAddress()),
    agreements: domainOf(DOMAIN_NAMES.agreements, d.chainId, await d.agreements.getAddress()),
  };
  return { ...d, eas, schemaRegistry, schemaUid, domains };
}
type Fixture = Awaited<ReturnType<typeof gasDeployed>>;

function consentTerms(subjectSigner = ethers.ZeroAddress, nonce = 1n): ConsentTerms {
  return {
    subject: ethers.id("salted subject commitment"),
    grantee: DEPT.water,
    resource: RESOURCE.residents,
    purposeHash: ethers.id("check residence for a water fee relief"),
    kind: ConsentKind.Separate,
    validUntil: VALID_UNTIL,
    evidenceHash: ethers.id("signed consent form"),
    recorder: DEPT.civil,
    subjectSigner,
    nonce,
  };
}

function transferBatch(parents: string[] = [], nonce = 1n): TransferBatch {
  return {
    from: DEPT.water,
    to: DEPT.tax,
    category: codeId("water-resource-fee"),
    period: 202610,
    recordCount: BigInt(LEAVES.length),
    totalFen: 150_000n,
    recordsRoot: hex(rootOf(LEAVES)),
    payloadHash: ethers.id("payload"),
    parents,
    nonce,
  };
}

function agreementTerms(nonce: bigint): AgreementTerms {
  return {
    provider: DEPT.water,
    consumer: DEPT.tax,
    resource: RESOURCE.waterFees,
    purposeHash: ethers.id("collect non-tax fees"),
    quota: 1_000_000n,
    validFrom: 1n,
    validUntil: VALID_UNTIL,
    nonce,
    meteringLog: LOG_ID,
  };
}

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  expect(receipt!.status).to.equal(1);
  return receipt!.gasUsed;
}

/** Grants `terms` signed by the civil affairs signer (and by the subject when given), relayed by a stranger. */
async function grantConsent(d: Fixture, terms: ConsentTerms, subjectSignature = "0x") {
  const recorderSig = { signer: d.a.civil.address, signature: await d.a.civil.signTypedData(d.domains.consents, CONSENT_TYPES, terms) };
  return d.consents.connect(d.a.stranger).grant(terms, recorderSig, subjectSignature);
}

async function submitTransfer(d: Fixture, batch: TransferBatch) {
  return d.transfers.submit(
    batch,
    { signer: d.a.water.address, signature: await d.a.water.signTypedData(d.domains.transfers, TRANSFER_TYPES, batch) },
    { signer: d.a.tax.address, signature: await d.a.tax.signTypedData(d.domains.transfers, TRANSFER_TYPES, batch) },
  );
}

async function activateAgreement(d: Fixture, terms: AgreementTerms) {
  return d.agreements.activate(
    terms,
    { signer: d.a.water.address, signature: await d.a.water.signTypedData(d.domains.agreements, AGREEMENT_TYPES, terms) },
    { signer: d.a.tax.address, signature: await d.a.tax.signTypedData(d.domains.agreements, AGREEMENT_TYPES, terms) },
  );
}

const rows: { operation: string; gas: bigint }[] = [];
let easAttestGas = 0n;

function record(operation: string, gas: bigint): bigint {
  rows.push({ operation, gas });
  return gas;
}

function table(): string {
  const ratio = (g: bigint) => (Number(g) / Number(easAttestGas)).toFixed(2) + "×";
  return [
    "| operation | gas | vs EAS attest |",
    "|---|---:|---:|",
    ...rows.map((r) => `| ${r.operation} | ${r.gas} | ${ratio(r.gas)} |`),
  ].join("\n");
}

describe("gas @gas-report", () => {
  after(() => {
    const md = table();
    console.log("\n" + md + "\n");
    // Written only by `npm run gas` (REPORT_GAS=true), so that a plain test run never edits docs/.
    if ((hre.config as { gasReporter?: { enabled?: boolean } }).gasReporter?.enabled) {
      const dir = join(__dirname, "..", "..", "docs");
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, "gas.md"),
        [
          "# Gas of dcl's hot paths",
          "",
          "Generated by `npm run gas` (test/contracts/gas.test.ts): `gasUsed` from the receipts of one",
          "transaction each, on the Hardhat network (cancun), solc " + hre.config.solidity.compilers[0].version +
            " with the optimizer at 200 runs. Every figure includes the 21 000 intrinsic gas and the calldata.",
          "The baseline is EAS 1.9.0 `attest` of one consent under a schema with the same fields",
          "(`" + CONSENT_SCHEMA + "`), deployed from the package's compiled artifacts in the same run.",
          "",
          "Targets (asserted by the test): a consent grant costs at most a third of an EAS attestation;",
          "a co-signed transfer submission at most one EAS attestation.",
          "",
          "Anchors verify an RFC 6962 consistency proof from the last anchored checkpoint on chain, so a",
          "forked log cannot be anchored. Before that check, the next anchor cost 87,322 gas; the goal for",
          "the next anchor at 10^9 entries is at most 130,000 (asserted by the test).",
          "",
          md,
          "",
        ].join("\n"),
      );
    }
  });

  it("measures EAS attest of one consent as the baseline", async () => {
    const d = await loadFixture(gasDeployed);
    const t = consentTerms();
    const data = ethers.AbiCoder.defaultAbiCoder().encode(
      ["bytes32", "bytes32", "bytes32", "bytes32", "uint8", "uint64", "bytes32", "bytes32"],
      [t.subject, t.grantee, t.resource, t.purposeHash, t.kind, t.validUntil, t.evidenceHash, t.recorder],
    );
    const request = {
      schema: d.schemaUid,
      data: { recipient: ethers.ZeroAddress, expirationTime: t.validUntil, revocable: true, refUID: ethers.ZeroHash, data, value: 0n },
    };
    const tx = d.eas.connect(d.a.civil).getFunction("attest")(request) as Promise<ContractTransactionResponse>;
    easAttestGas = record("EAS `attest` (one consent, 8-field schema)", await gasOf(tx));
    expect(easAttestGas).to.be.greaterThan(100_000n);
  });

  it("keeps a consent grant within a third of an EAS attestation, with or without the subject's signature", async () => {
    const d = await loadFixture(gasDeployed);
    const plain = record("ConsentRegistry `grant` (recorder-signed, relayed; no subject signature)", await gasOf(grantConsent(d, consentTerms())));
    const signedTerms = consentTerms(d.a.subject.address, 2n);
    const sig = await d.a.subject.signTypedData(d.domains.consents, CONSENT_TYPES, signedTerms);
    const signed = record("ConsentRegistry `grant` (recorder- and subject-signed, relayed)", await gasOf(grantConsent(d, signedTerms, sig)));
    expect(plain * 3n).to.be.at.most(easAttestGas);
    expect(signed * 3n).to.be.at.most(easAttestGas);
  });

  it("measures consent revocation by the recorder and by the subject", async () => {
    const d = await loadFixture(gasDeployed);
    const byRecorder = consentTerms();
    await grantConsent(d, byRecorder);
    const revocation = { consentId: await d.consents.hashTerms(byRecorder) };
    const recorderSig = { signer: d.a.civil.address, signature: await d.a.civil.signTypedData(d.domains.consents, REVOCATION_TYPES, revocation) };
    record("ConsentRegistry `revoke` (recorder-signed, relayed)", await gasOf(d.consents.connect(d.a.stranger).revoke(byRecorder, recorderSig)));
    const bySubject = consentTerms(d.a.subject.address, 2n);
    await grantConsent(d, bySubject, await d.a.subject.signTypedData(d.domains.consents, CONSENT_TYPES, bySubject));
    const id = await d.consents.hashTerms(bySubject);
    const rsig = await d.a.subject.signTypedData(d.domains.consents, REVOCATION_TYPES, { consentId: id });
    record("ConsentRegistry `revokeBySubject` (relayed)", await gasOf(d.consents.connect(d.a.stranger).revokeBySubject(bySubject, rsig)));
    expect((await d.consents.consent(id)).revokedAt).to.not.equal(0n);
  });

  it("measures a regulator's revocation of a consent, and cancellations of consent, agreement and transfer terms not yet on chain", async () => {
    const d = await loadFixture(gasDeployed);
    const granted = consentTerms();
    await grantConsent(d, granted);
    const reasonHash = ethers.id("recorder deactivated");
    const regulatorSig = await d.a.regulator.signTypedData(d.domains.consents, REGULATOR_REVOCATION_TYPES, { consentId: await d.consents.hashTerms(granted), reasonHash });
    record("ConsentRegistry `revokeByRegulator` (regulator-signed, relayed)", await gasOf(d.consents.connect(d.a.stranger).revokeByRegulator(granted, reasonHash, d.a.regulator.address, regulatorSig)));
    const notGranted = consentTerms(ethers.ZeroAddress, 2n);
    const consentCancellation = { consentId: await d.consents.hashTerms(notGranted) };
    const recorderSig = { signer: d.a.civil.address, signature: await d.a.civil.signTypedData(d.domains.consents, CONSENT_CANCELLATION_TYPES, consentCancellation) };
    record("ConsentRegistry `cancel` (recorder-signed, relayed)", await gasOf(d.consents.connect(d.a.stranger).cancel(notGranted, recorderSig)));
    const terms = agreementTerms(1n);
    const agreementSig = { signer: d.a.tax.address, signature: await d.a.tax.signTypedData(d.domains.agreements, AGREEMENT_CANCELLATION_TYPES, { agreementId: await d.agreements.hashTerms(terms) }) };
    record("SharingAgreements `cancel` (a party's signer, relayed)", await gasOf(d.agreements.connect(d.a.stranger).cancel(terms, DEPT.tax, agreementSig)));
    const batch = transferBatch();
    const transferSig = { signer: d.a.water.address, signature: await d.a.water.signTypedData(d.domains.transfers, TRANSFER_CANCELLATION_TYPES, { transferId: await d.transfers.hashBatch(batch) }) };
    record("NonTaxTransfers `cancel` (a party's signer, relayed; 0 parents)", await gasOf(d.transfers.connect(d.a.stranger).cancel(batch, DEPT.water, transferSig)));
    expect(await d.transfers.cancelledAt(await d.transfers.hashBatch(batch))).to.not.equal(0n);
  });

  it("measures a co-signed agreement activation", async () => {
    const d = await loadFixture(gasDeployed);
    record("SharingAgreements `activate` (co-signed)", await gasOf(activateAgreement(d, agreementTerms(1n))));
    expect((await d.agreements.agreement(await d.agreements.hashTerms(agreementTerms(1n)))).status).to.equal(1n);
  });

  it("measures a relayed suspension, resumption and revocation of an agreement", async () => {
    const d = await loadFixture(gasDeployed);
    await activateAgreement(d, agreementTerms(1n));
    const id = await d.agreements.hashTerms(agreementTerms(1n));
    const relayer = d.agreements.connect(d.a.stranger);
    const reasonHash = ethers.id("audit");
    const suspension: AgreementStatusChange = { agreementId: id, status: AgreementStatus.Suspended, reasonHash, nonce: 0n };
    const suspendSig = await d.a.regulator.signTypedData(d.domains.agreements, AGREEMENT_STATUS_TYPES, suspension);
    record("SharingAgreements `suspend` (regulator-signed, relayed)", await gasOf(relayer.suspend(id, reasonHash, d.a.regulator.address, suspendSig)));
    const resumption: AgreementStatusChange = { agreementId: id, status: AgreementStatus.Active, reasonHash: ethers.ZeroHash, nonce: 1n };
    const resumeSig = await d.a.regulator.signTypedData(d.domains.agreements, AGREEMENT_STATUS_TYPES, resumption);
    record("SharingAgreements `resume` (regulator-signed, relayed)", await gasOf(relayer.resume(id, d.a.regulator.address, resumeSig)));
    const revocation = { agreementId: id };
    const providerSig = { signer: d.a.water.address, signature: await d.a.water.signTypedData(d.domains.agreements, AGREEMENT_REVOCATION_TYPES, revocation) };
    record("SharingAgreements `revoke` (provider-signed, relayed)", await gasOf(relayer.revoke(id, providerSig)));
    const a = await d.agreements.agreement(id);
    expect([a.status, a.statusChanges]).to.deep.equal([3n, 2n]);
  });

  it("keeps a co-signed transfer submission within one EAS attestation", async () => {
    const d = await loadFixture(gasDeployed);
    const submit = record("NonTaxTransfers `submit` (co-signed, 0 parents)", await gasOf(submitTransfer(d, transferBatch())));
    expect(submit).to.be.at.most(easAttestGas);
    const parents = [] as string[];
    for (const nonce of [2n, 3n, 4n]) {
      await submitTransfer(d, transferBatch([], nonce));
      parents.push(await d.transfers.hashBatch(transferBatch([], nonce)));
    }
    const withParents = record("NonTaxTransfers `submit` (co-signed, 3 parents)", await gasOf(submitTransfer(d, transferBatch(parents, 5n))));
    expect(withParents).to.be.at.most(easAttestGas);
  });

  it("measures a co-signed reconciliation and a dispute with an inclusion proof", async () => {
    const d = await loadFixture(gasDeployed);
    await submitTransfer(d, transferBatch());
    const id = await d.transfers.hashBatch(transferBatch());
    const rec: Reconciliation = { transferId: id, collectedCount: 5n, collectedFen: 150_000n, resultsRoot: ethers.id("results") };
    const reconcile = d.transfers.reconcile(
      rec,
      { signer: d.a.water.address, signature: await d.a.water.signTypedData(d.domains.transfers, RECONCILIATION_TYPES, rec) },
      { signer: d.a.tax.address, signature: await d.a.tax.signTypedData(d.domains.transfers, RECONCILIATION_TYPES, rec) },
    );
    record("NonTaxTransfers `reconcile` (co-signed)", await gasOf(reconcile));
    const proof = inclusionProof(2, LEAVES).map(hex);
    expect(proof).to.have.length(3);
    const disputed: Dispute = { transferId: id, department: DEPT.water, leafIndex: 2n, leafHash: hex(LEAVES[2]), reasonHash: ethers.id("reason") };
    const sig = { signer: d.a.water.address, signature: await d.a.water.signTypedData(d.domains.transfers, DISPUTE_TYPES, disputed) };
    const dispute = d.transfers.connect(d.a.stranger).dispute(id, DEPT.water, 2, RECORD_BYTES[2], proof, disputed.reasonHash, sig);
    record("NonTaxTransfers `dispute` (signed, relayed; 5-record batch, 3-step proof)", await gasOf(dispute));
    expect((await d.transfers.transfer(id)).disputes).to.equal(1n);
  });

  it("measures anchoring a log checkpoint: the first, and the next one with its consistency proof verified on chain at 10^3, 10^6 and 10^9 entries", async () => {
    const d = await loadFixture(gasDeployed);
    const tree = new UniformTree(Buffer.from(ethers.getBytes(ethers.id("an entry"))));
    record("LogAnchors `anchor` (first checkpoint of a log)", await gasOf(d.anchors.connect(d.a.bigdata).anchor(LOG_ID, 500n, hex(tree.root(500)), [])));
    // Each next checkpoint adds what an anchor interval adds at the seed scenario's peak (5 s × 3,360 calls/s),
    // so the proof is as long as it is in operation at that size.
    const step = 16_800;
    let anchored = 500;
    for (const [label, size] of [["10^3", 1_000], ["10^6", 1_000_000], ["10^9", 1_000_000_000]] as const) {
      const from = Math.max(anchored, size - step);
      if (from > anchored) {
        await time.increase(Math.ceil((from - anchored) / 1_000_000) + 1); // within the growth bound
        await d.anchors.connect(d.a.bigdata).anchor(LOG_ID, BigInt(from), hex(tree.root(from)), tree.consistency(anchored, from).map(hex));
      }
      const proof = tree.consistency(from, size).map(hex);
      const gas = await gasOf(d.anchors.connect(d.a.bigdata).anchor(LOG_ID, BigInt(size), hex(tree.root(size)), proof));
      record(`LogAnchors \`anchor\` (next checkpoint at ${label} entries, ${proof.length}-hash consistency proof)`, gas);
      if (label === "10^9") expect(gas).to.be.at.most(130_000n);
      anchored = size;
    }
    expect((await d.anchors.latestCheckpoint(LOG_ID)).treeSize).to.equal(1_000_000_000n);
  });

  it("measures threshold and council operations", async () => {
    const d = await loadFixture(gasDeployed);
    const reg = d.registry;
    const id = codeId("cq.health");
    const [k1, k2, k3] = [d.a.tax, d.a.tax2, d.a.civil].sort((x, y) => (BigInt(x.address) < BigInt(y.address) ? -1 : 1));
    await reg.connect(d.a.governor).registerDepartmentWithThreshold(id, 1, ethers.ZeroHash, [k1.address, k2.address, k3.address], 2);
    const regDomain = domainOf(DOMAIN_NAMES.registry, d.chainId, await reg.getAddress());
    const change = { department: id, action: SignerAction.Add, signer: d.a.stranger.address, threshold: 2, nonce: 0 };
    const sigs = await Promise.all([k1, k2].map(async (k) => ({ signer: k.address, signature: await k.signTypedData(regDomain, SIGNER_CHANGE_TYPES, change) })));
    record("DepartmentRegistry `changeSigners` (add a key, 2 of 3 signatures, relayed)", await gasOf(reg.connect(d.a.stranger).changeSigners(change, sigs)));
    record("DepartmentRegistry `addSigner` (threshold 1, by a signer's transaction)", await gasOf(reg.connect(d.a.water).addSigner(DEPT.water, d.a.subject.address)));
    record("DepartmentRegistry `proposeRecovery` (governor; 1 key added, 1 removed)", await gasOf(reg.connect(d.a.governor).proposeRecovery(DEPT.water, [d.a.stranger.address], [d.a.subject.address], 1)));
    const r = await reg.recoveryOf(DEPT.water);
    const veto = { signer: d.a.water.address, signature: await d.a.water.signTypedData(regDomain, RECOVERY_VETO_TYPES, { department: DEPT.water, recoveryHash: r.hash }) };
    record("DepartmentRegistry `vetoRecovery` (one key's signature, relayed)", await gasOf(reg.connect(d.a.stranger).vetoRecovery(DEPT.water, veto)));

    const councilOf = async (members: typeof k1[], m: number) => {
      const c = await new GovernanceCouncil__factory(d.a.deployer).deploy(members.map((x) => x.address), m);
      await reg.connect(d.a.governor).grantRole(ROLES.governor, await c.getAddress());
      return c;
    };
    const execute = async (members: typeof k1[], m: number, signers: typeof k1[], code: string) => {
      const council = await councilOf(members, m);
      const domain = domainOf(DOMAIN_NAMES.council, d.chainId, await council.getAddress());
      const data = reg.interface.encodeFunctionData("registerDepartment", [codeId(code), 1, ethers.ZeroHash, [d.a.stranger.address]]);
      const value = { target: await reg.getAddress(), data, nonce: 0 };
      const signatures = await Promise.all(signers.map(async (k) => ({ signer: k.address, signature: await k.signTypedData(domain, COUNCIL_CALL_TYPES, value) })));
      return gasOf(council.connect(d.a.stranger).execute(value.target, data, signatures));
    };
    const direct = await gasOf(reg.connect(d.a.governor).registerDepartment(codeId("cq.direct"), 1, ethers.ZeroHash, [d.a.stranger.address]));
    record("DepartmentRegistry `registerDepartment` (governor's own transaction)", direct);
    record("GovernanceCouncil `execute` registerDepartment (1 of 1)", await execute([k1], 1, [k1], "cq.council1"));
    record("GovernanceCouncil `execute` registerDepartment (2 of 3)", await execute([k1, k2, k3], 2, [k1, k2], "cq.council2"));
    record("GovernanceCouncil `execute` registerDepartment (3 of 5)", await execute([k1, k2, k3, d.a.water, d.a.cad].sort((x, y) => (BigInt(x.address) < BigInt(y.address) ? -1 : 1)), 3, [k1, k2, k3], "cq.council3"));
    expect(await reg.exists(codeId("cq.council3"))).to.equal(true);
  });

  it("measures usage reports for 1 and 10 agreements", async () => {
    const d = await loadFixture(gasDeployed);
    const ids: string[] = [];
    for (let n = 1n; n <= 11n; n++) {
      await activateAgreement(d, agreementTerms(n));
      ids.push(await d.agreements.hashTerms(agreementTerms(n)));
    }
    const reporter = d.agreements.connect(d.a.bigdata);
    record("SharingAgreements `reportUsage` (1 agreement, first report: binds the log)", await gasOf(reporter.reportUsage(LOG_ID, [ids[0]], [10n])));
    record("SharingAgreements `reportUsage` (1 agreement, next report)", await gasOf(reporter.reportUsage(LOG_ID, [ids[0]], [20n])));
    const ten = ids.slice(1);
    record("SharingAgreements `reportUsage` (10 agreements, first report)", await gasOf(reporter.reportUsage(LOG_ID, ten, ten.map(() => 10n))));
    record("SharingAgreements `reportUsage` (10 agreements, next report)", await gasOf(reporter.reportUsage(LOG_ID, ten, ten.map(() => 20n))));
    expect((await d.agreements.agreement(ids[10])).used).to.equal(20n);
    expect(await d.agreements.meteringLog(ids[10])).to.equal(LOG_ID);
  });
});
