/**
 * docs/formats.md §10 against test/vectors/eip712.json: domain separators, type strings,
 * encodeData, hashStruct (and the ids that are hashStructs), digests and signatures are rebuilt
 * by hand from the document's rules (formats-rules.ts: keccak256 and secp256k1 only), and checked
 * against dcl's two producers: the node's typed data (node/chain/typed-data.ts through ethers) and
 * the contracts themselves (their *_TYPEHASH constants, hashTerms / hashBatch, and the domain
 * separator of the contract code placed at the vector's address on the Hardhat network).
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ethers, network } from "hardhat";
import { TypedDataEncoder, verifyTypedData, type TypedDataField } from "ethers";
import {
  AGREEMENT_CANCELLATION_TYPES, AGREEMENT_REVOCATION_TYPES, AGREEMENT_STATUS_TYPES, AGREEMENT_TYPES, CONSENT_CANCELLATION_TYPES, CONSENT_TYPES, DISPUTE_TYPES, DOMAIN_NAMES,
  REGULATOR_REVOCATION_TYPES, TRANSFER_CANCELLATION_TYPES, COUNCIL_CALL_TYPES, RECONCILIATION_TYPES, RECOVERY_VETO_TYPES, REVOCATION_TYPES, SIGNER_CHANGE_TYPES, TRANSFER_TYPES, domainOf,
} from "../../node/chain/typed-data";
import { ConsentRegistry__factory, DepartmentRegistry__factory, GovernanceCouncil__factory, NonTaxTransfers__factory, SharingAgreements__factory } from "../../typechain-types";
import * as spec from "./formats-rules";

interface Key { hardhatAccount: number; privateKey: string; address: string }
interface Domain { contract: string; name: string; version: string; chainId: string; verifyingContract: string; typeString: string; separator: string }
interface StructCase {
  name: string;
  contract: string;
  verifyingContract: string;
  primaryType: string;
  typeString: string;
  typeHash: string;
  message: Record<string, unknown>;
  encodeData: string;
  structHash: string;
  id?: { of: string; value: string };
  digest: string;
  signatures: { role: string; signer: Key; signature: string }[];
}
interface Eip712Vector { chainId: string; contracts: Record<string, string>; domains: Domain[]; structs: StructCase[] }

const v = JSON.parse(readFileSync(join(__dirname, "../vectors/eip712.json"), "utf8")) as Eip712Vector;

/** The type strings as docs/formats.md §10.3 states them, with the contract that verifies each. */
const TYPE_STRINGS: Record<string, { contract: string; typeString: string }> = {
  Agreement: { contract: "SharingAgreements", typeString: "Agreement(bytes32 provider,bytes32 consumer,bytes32 resource,bytes32 purposeHash,uint64 quota,uint64 validFrom,uint64 validUntil,uint64 nonce,bytes32 meteringLog)" },
  AgreementRevocation: { contract: "SharingAgreements", typeString: "AgreementRevocation(bytes32 agreementId)" },
  AgreementStatusChange: { contract: "SharingAgreements", typeString: "AgreementStatusChange(bytes32 agreementId,uint8 status,bytes32 reasonHash,uint32 nonce)" },
  Consent: { contract: "ConsentRegistry", typeString: "Consent(bytes32 subject,bytes32 grantee,bytes32 resource,bytes32 purposeHash,uint8 kind,uint64 validUntil,bytes32 evidenceHash,bytes32 recorder,address subjectSigner,uint64 nonce)" },
  Revocation: { contract: "ConsentRegistry", typeString: "Revocation(bytes32 consentId)" },
  Transfer: { contract: "NonTaxTransfers", typeString: "Transfer(bytes32 from,bytes32 to,bytes32 category,uint32 period,uint64 recordCount,uint128 totalFen,bytes32 recordsRoot,bytes32 payloadHash,bytes32[] parents,uint64 nonce)" },
  Reconciliation: { contract: "NonTaxTransfers", typeString: "Reconciliation(bytes32 transferId,uint64 collectedCount,uint128 collectedFen,bytes32 resultsRoot)" },
  Dispute: { contract: "NonTaxTransfers", typeString: "Dispute(bytes32 transferId,bytes32 department,uint64 leafIndex,bytes32 leafHash,bytes32 reasonHash)" },
  AgreementCancellation: { contract: "SharingAgreements", typeString: "AgreementCancellation(bytes32 agreementId)" },
  RegulatorRevocation: { contract: "ConsentRegistry", typeString: "RegulatorRevocation(bytes32 consentId,bytes32 reasonHash)" },
  ConsentCancellation: { contract: "ConsentRegistry", typeString: "ConsentCancellation(bytes32 consentId)" },
  TransferCancellation: { contract: "NonTaxTransfers", typeString: "TransferCancellation(bytes32 transferId)" },
  SignerChange: { contract: "DepartmentRegistry", typeString: "SignerChange(bytes32 department,uint8 action,address signer,uint8 threshold,uint32 nonce)" },
  RecoveryVeto: { contract: "DepartmentRegistry", typeString: "RecoveryVeto(bytes32 department,bytes32 recoveryHash)" },
  CouncilCall: { contract: "GovernanceCouncil", typeString: "CouncilCall(address target,bytes data,uint64 nonce)" },
};

const NODE_TYPES: Record<string, Record<string, TypedDataField[]>> = {
  Agreement: AGREEMENT_TYPES, AgreementRevocation: AGREEMENT_REVOCATION_TYPES, AgreementStatusChange: AGREEMENT_STATUS_TYPES,
  Consent: CONSENT_TYPES, Revocation: REVOCATION_TYPES, Transfer: TRANSFER_TYPES, Reconciliation: RECONCILIATION_TYPES, Dispute: DISPUTE_TYPES,
  SignerChange: SIGNER_CHANGE_TYPES, RecoveryVeto: RECOVERY_VETO_TYPES, CouncilCall: COUNCIL_CALL_TYPES,
  AgreementCancellation: AGREEMENT_CANCELLATION_TYPES, RegulatorRevocation: REGULATOR_REVOCATION_TYPES, ConsentCancellation: CONSENT_CANCELLATION_TYPES,
  TransferCancellation: TRANSFER_CANCELLATION_TYPES,
};
const NODE_DOMAIN_NAME: Record<string, string> = {
  GovernanceCouncil: DOMAIN_NAMES.council, DepartmentRegistry: DOMAIN_NAMES.registry, SharingAgreements: DOMAIN_NAMES.agreements, ConsentRegistry: DOMAIN_NAMES.consents, NonTaxTransfers: DOMAIN_NAMES.transfers,
};

const domainOfCase = (c: StructCase) => v.domains.find((d) => d.contract === c.contract)!;

describe("formats §10: EIP-712 structs (test/vectors/eip712.json)", () => {
  it("covers every struct dcl signs, each under its contract's domain", () => {
    expect([...new Set(v.structs.map((c) => c.primaryType))].sort()).to.deep.equal(Object.keys(TYPE_STRINGS).sort());
    for (const c of v.structs) {
      expect(c.contract).to.equal(TYPE_STRINGS[c.primaryType].contract);
      expect(c.verifyingContract).to.equal(domainOfCase(c).verifyingContract);
    }
    expect(v.domains.map((d) => d.name)).to.deep.equal(["dcl GovernanceCouncil", "dcl DepartmentRegistry", "dcl SharingAgreements", "dcl ConsentRegistry", "dcl NonTaxTransfers"]);
  });

  it("rebuilds each domain separator by hand", () => {
    expect(spec.hex(spec.keccak(spec.EIP712_DOMAIN))).to.equal("0x8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f");
    for (const d of v.domains) {
      expect(d.typeString).to.equal(spec.EIP712_DOMAIN);
      expect([d.version, d.chainId]).to.deep.equal(["1", v.chainId]);
      const manual = spec.keccak(spec.cat(
        spec.keccak(spec.EIP712_DOMAIN), spec.keccak(d.name), spec.keccak(d.version), spec.uintBE(BigInt(d.chainId), 32),
        Buffer.alloc(12), spec.bytes(d.verifyingContract),
      ));
      expect(spec.hex(manual)).to.equal(d.separator);
      expect(spec.hex(spec.domainSeparator(d))).to.equal(d.separator);
    }
  });

  for (const c of v.structs) {
    it(`rebuilds "${c.name}": type string, encodeData, hashStruct, digest and signatures`, () => {
      expect(c.typeString).to.equal(TYPE_STRINGS[c.primaryType].typeString);
      expect(spec.hex(spec.keccak(c.typeString))).to.equal(c.typeHash);
      const data = spec.encodeData(c.typeString, c.message);
      expect(data.length).to.equal(32 * (1 + spec.members(c.typeString).length));
      expect(spec.hex(data)).to.equal(c.encodeData);
      const structHash = spec.keccak(data);
      expect(spec.hex(structHash)).to.equal(c.structHash);
      if (c.id) expect(c.id.value).to.equal(c.structHash); // ids are hashStruct, not the digest
      const digest = spec.typedDigest(spec.bytes(domainOfCase(c).separator), structHash);
      expect(spec.hex(digest)).to.equal(c.digest);
      for (const s of c.signatures) {
        expect(spec.signDigest(digest, s.signer.privateKey), s.role).to.equal(s.signature);
        expect(spec.recover(digest, s.signature)).to.equal(s.signer.address.toLowerCase());
      }
    });
  }

  it("encodes bytes32[] as keccak256 of the concatenated elements (keccak256(\"\") when empty)", () => {
    const withParents = v.structs.find((c) => c.primaryType === "Transfer" && (c.message.parents as string[]).length > 0)!;
    const without = v.structs.find((c) => c.primaryType === "Transfer" && (c.message.parents as string[]).length === 0)!;
    const word = (c: StructCase, i: number) => "0x" + c.encodeData.slice(2 + 64 * i, 2 + 64 * (i + 1));
    const parentsAt = 1 + spec.members(withParents.typeString).findIndex((m) => m.name === "parents");
    expect(word(withParents, parentsAt)).to.equal(spec.hex(spec.keccak(spec.cat(...(withParents.message.parents as string[]).map(spec.bytes)))));
    expect(word(without, parentsAt)).to.equal("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  });

  it("is what the node's typed data hash and sign (ethers with node/chain/typed-data.ts)", () => {
    for (const c of v.structs) {
      const types = NODE_TYPES[c.primaryType];
      const encoder = TypedDataEncoder.from(types);
      expect(encoder.encodeType(c.primaryType)).to.equal(c.typeString);
      expect(encoder.encodeData(c.primaryType, c.message)).to.equal(c.encodeData);
      expect(TypedDataEncoder.hashStruct(c.primaryType, types, c.message)).to.equal(c.structHash);
      const domain = domainOf(NODE_DOMAIN_NAME[c.contract], BigInt(v.chainId), c.verifyingContract);
      expect(TypedDataEncoder.hashDomain(domain)).to.equal(domainOfCase(c).separator);
      expect(TypedDataEncoder.hash(domain, types, c.message)).to.equal(c.digest);
      for (const s of c.signatures) expect(verifyTypedData(domain, types, c.message, s.signature)).to.equal(s.signer.address);
    }
  });

  describe("the contracts", () => {
    // The vector's addresses are those of a first deployment by account #0, which other suites' fixtures
    // also use: everything done here is undone by reverting to a snapshot taken first.
    let snapshot: string;
    before(async () => {
      snapshot = await network.provider.send("evm_snapshot", []);
    });
    after(async () => {
      expect(await network.provider.send("evm_revert", [snapshot])).to.equal(true);
    });

    /** Deploys a contract and puts its code at `address`, the vector's verifyingContract. */
    async function at<T>(deploy: () => Promise<{ getAddress(): Promise<string> }>, connect: (address: string) => T, address: string): Promise<T> {
      const deployed = await deploy();
      const code = await ethers.provider.getCode(await deployed.getAddress());
      await network.provider.send("hardhat_setCode", [address, code]);
      return connect(address);
    }

    it("verify the same type hashes, ids and domain separators", async () => {
      const { chainId } = await ethers.provider.getNetwork();
      expect(chainId.toString()).to.equal(v.chainId);
      // Deployed by an account other than #0, whose first addresses are the vector's: a CREATE onto an
      // address already given code would collide.
      const signer = (await ethers.getSigners())[9];
      const anyAddress = signer.address; // the constructors only store the registry, catalog and anchors
      const agreements = await at(() => new SharingAgreements__factory(signer).deploy(anyAddress, anyAddress, anyAddress), (a) => SharingAgreements__factory.connect(a, ethers.provider), v.contracts.agreements);
      const consents = await at(() => new ConsentRegistry__factory(signer).deploy(anyAddress, anyAddress), (a) => ConsentRegistry__factory.connect(a, ethers.provider), v.contracts.consents);
      const transfers = await at(() => new NonTaxTransfers__factory(signer).deploy(anyAddress), (a) => NonTaxTransfers__factory.connect(a, ethers.provider), v.contracts.transfers);
      const registry = await at(() => new DepartmentRegistry__factory(signer).deploy(anyAddress), (a) => DepartmentRegistry__factory.connect(a, ethers.provider), v.contracts.registry);
      expect(await registry.SIGNER_CHANGE_TYPEHASH()).to.equal(spec.hex(spec.keccak(TYPE_STRINGS.SignerChange.typeString)));
      expect(await registry.RECOVERY_VETO_TYPEHASH()).to.equal(spec.hex(spec.keccak(TYPE_STRINGS.RecoveryVeto.typeString)));
      expect(await registry.domainSeparator()).to.equal(v.domains.find((d) => d.contract === "DepartmentRegistry")!.separator);
      for (const c of v.structs.filter((c) => c.primaryType === "SignerChange")) expect(await registry.hashSignerChange(c.message as never), c.name).to.equal(c.structHash);
      const council = await at(() => new GovernanceCouncil__factory(signer).deploy([signer.address], 1), (a) => GovernanceCouncil__factory.connect(a, ethers.provider), v.contracts.council);
      expect(await council.COUNCIL_CALL_TYPEHASH()).to.equal(spec.hex(spec.keccak(TYPE_STRINGS.CouncilCall.typeString)));
      expect(await council.domainSeparator()).to.equal(v.domains.find((d) => d.contract === "GovernanceCouncil")!.separator);
      for (const c of v.structs.filter((c) => c.primaryType === "CouncilCall")) {
        const m = c.message as { target: string; data: string; nonce: number };
        expect(await council.hashCall(m.target, m.data, m.nonce), c.name).to.equal(c.structHash);
      }

      const typeHash = (t: string) => spec.hex(spec.keccak(TYPE_STRINGS[t].typeString));
      expect(await agreements.AGREEMENT_TYPEHASH()).to.equal(typeHash("Agreement"));
      expect(await agreements.AGREEMENT_REVOCATION_TYPEHASH()).to.equal(typeHash("AgreementRevocation"));
      expect(await agreements.AGREEMENT_STATUS_TYPEHASH()).to.equal(typeHash("AgreementStatusChange"));
      expect(await consents.CONSENT_TYPEHASH()).to.equal(typeHash("Consent"));
      expect(await consents.REVOCATION_TYPEHASH()).to.equal(typeHash("Revocation"));
      expect(await transfers.TRANSFER_TYPEHASH()).to.equal(typeHash("Transfer"));
      expect(await transfers.RECONCILIATION_TYPEHASH()).to.equal(typeHash("Reconciliation"));
      expect(await transfers.DISPUTE_TYPEHASH()).to.equal(typeHash("Dispute"));
      expect(await agreements.AGREEMENT_CANCELLATION_TYPEHASH()).to.equal(typeHash("AgreementCancellation"));
      expect(await consents.REGULATOR_REVOCATION_TYPEHASH()).to.equal(typeHash("RegulatorRevocation"));
      expect(await consents.CONSENT_CANCELLATION_TYPEHASH()).to.equal(typeHash("ConsentCancellation"));
      expect(await transfers.TRANSFER_CANCELLATION_TYPEHASH()).to.equal(typeHash("TransferCancellation"));

      const separator = (contract: string) => v.domains.find((d) => d.contract === contract)!.separator;
      expect(await agreements.domainSeparator()).to.equal(separator("SharingAgreements"));
      expect(await consents.domainSeparator()).to.equal(separator("ConsentRegistry"));
      expect(await transfers.domainSeparator()).to.equal(separator("NonTaxTransfers"));

      for (const c of v.structs.filter((c) => c.id)) {
        const m = c.message as never;
        const id = c.primaryType === "Agreement" ? await agreements.hashTerms(m) : c.primaryType === "Consent" ? await consents.hashTerms(m) : await transfers.hashBatch(m);
        expect(id, c.name).to.equal(c.id!.value);
      }
    });
  });
});
