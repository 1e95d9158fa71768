/**
 * docs/formats.md §15 relay ids, rebuilt from the written rule: test/vectors/relay-id.json (written by
 * scripts/vectors/make-relay-vectors.ts) holds calls, the bytes hashed and the ids; here the bytes are
 * concatenated by hand and hashed with node:crypto (not @noble/hashes, which dcl uses), then checked
 * against dcl's relayId and against the calldata of the contracts' ABIs.
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Interface } from "ethers";
import { relayId, relayIdPreimage } from "../../node/chain/outbox";
import { DepartmentRegistry__factory, SharingAgreements__factory } from "../../typechain-types";

/* eslint-disable @typescript-eslint/no-explicit-any */
const v: any = JSON.parse(readFileSync(join(__dirname, "../vectors/relay-id.json"), "utf8"));
const formats = readFileSync(join(__dirname, "../../docs/formats.md"), "utf8");

const be = (value: bigint, bytes: number) => Buffer.from(value.toString(16).padStart(bytes * 2, "0"), "hex");
const hex = (s: string) => Buffer.from(s.replace(/^0x/, ""), "hex");

describe("formats §15 relay ids (test/vectors/relay-id.json)", () => {
  it("states the rule and the tag the vector uses", () => {
    expect(formats).to.contain("## 15. Relay ids");
    expect(formats).to.contain('id = SHA-256( "dcl-relay-v1" ‖ uint64be(chainId) ‖ to ‖ uint32be(attempt) ‖ data )');
    expect(v.tag).to.equal("dcl-relay-v1");
    expect(v.cases.length).to.be.greaterThanOrEqual(3);
  });

  it("rebuilds every preimage and id by hand, and dcl's relayId gives the same", () => {
    for (const c of v.cases) {
      const preimage = Buffer.concat([Buffer.from(v.tag, "ascii"), be(BigInt(c.chainId), 8), hex(c.to), be(BigInt(c.attempt), 4), hex(c.data)]);
      expect("0x" + preimage.toString("hex"), c.what).to.equal(c.preimage);
      const id = "0x" + createHash("sha256").update(preimage).digest("hex");
      expect(id, c.what).to.equal(c.id);
      expect(relayId(BigInt(c.chainId), c.to, c.data, c.attempt)).to.equal(c.id);
      expect(relayIdPreimage(BigInt(c.chainId), c.to, c.data, c.attempt)).to.equal(c.preimage);
    }
  });

  it("hashes the calldata the contracts' ABIs encode, and a later attempt of the same call has another id", () => {
    const ifaces: Record<string, Interface> = { registry: new Interface(DepartmentRegistry__factory.abi), agreements: new Interface(SharingAgreements__factory.abi) };
    for (const c of v.cases) expect(ifaces[c.contract].parseTransaction({ data: c.data })?.name, c.what).to.equal(c.method);
    const active = v.cases.filter((c: any) => c.method === "setDepartmentActive");
    expect(active.map((c: any) => c.attempt)).to.deep.equal([0, 1]);
    expect(active[0].data).to.equal(active[1].data);
    expect(active[0].id).to.not.equal(active[1].id);
  });
});
