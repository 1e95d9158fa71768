import { expect } from "chai";
import { ethers, Wallet } from "ethers";
import type { DclClient } from "../../api/client";
import { codeId } from "../../node/chain/ids";
import { refused } from "../support/api-refused";
import { startApiHarness, type ApiHarness } from "../support/api-harness";
import { D, R } from "../support/node-harness";


/** Sends a signed request and returns the status with the parsed body. */
async function call(c: DclClient, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await c.send(method, path, body);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const wallet = () => new Wallet(Wallet.createRandom().privateKey);

interface Department {
  id: string;
  level: string;
  parent: string;
  active: boolean;
  signers: string[];
}

interface Resource {
  id: string;
  owner: string;
  schemaHash: string;
  condition: string;
  personal: boolean;
  version: number;
}

describe("api registry and catalog", function () {
  let h: ApiHarness;
  before(async () => (h = await startApiHarness()));
  after(async () => h?.stop());

  describe("departments", () => {
    it("lets the governor register a department, which GET then shows", async () => {
      const key = wallet();
      const r = await call(h.governor, "POST", "/v1/departments", { code: "cq.yuzhong.water", level: "district", parent: D.water, signers: [key.address] });
      expect(r.status).to.equal(201);
      expect(r.body.id).to.equal(codeId("cq.yuzhong.water"));
      expect(r.body.tx).to.match(/^0x[0-9a-f]{64}$/);
      const d = await h.client.tax.get<Department>(`/v1/departments/${r.body.id}`);
      expect(d).to.deep.equal({ id: codeId("cq.yuzhong.water"), level: "district", parent: D.water, active: true, signers: [key.address.toLowerCase()] });
      // The new department's own key can now sign requests.
      const own = h.client.tax.as(r.body.id, key);
      expect((await own.get<Department>(`/v1/departments/${D.tax}`)).id).to.equal(D.tax);
    });

    it("refuses a registration by a department that is not the governor", async () => {
      await refused(h.client.tax.post("/v1/departments", { code: "cq.rogue", level: "town", signers: [wallet().address] }), 403, "FORBIDDEN_ROLE");
      // A signer of the big-data bureau that does not itself hold the governor role is refused too.
      await refused(h.client.bigdata.post("/v1/departments", { code: "cq.rogue", level: "town", signers: [wallet().address] }), 403, "FORBIDDEN_ROLE");
      await refused(h.client.tax.get(`/v1/departments/${codeId("cq.rogue")}`), 404, "NOT_FOUND");
    });

    it("refuses a duplicate registration with 409", async () => {
      await refused(h.governor.post("/v1/departments", { code: "cq.tax", level: "city", signers: [wallet().address] }), 409, "DEPARTMENT_EXISTS");
    });

    it("refuses an unknown parent with 404", async () => {
      await refused(h.governor.post("/v1/departments", { code: "cq.orphan", level: "village", parent: codeId("cq.nowhere"), signers: [wallet().address] }), 404, "NOT_FOUND");
      await refused(h.client.tax.get(`/v1/departments/${codeId("cq.orphan")}`), 404, "NOT_FOUND");
    });

    it("rotates a key: the department adds a new signer itself, removes the old one, and the old key is refused", async () => {
      const oldKey = wallet();
      const newKey = wallet();
      const { id } = await h.governor.post<{ id: string }>("/v1/departments", { code: "cq.rotating", level: "town", parent: D.bigdata, signers: [oldKey.address] });
      const old = h.client.tax.as(id, oldKey);
      const fresh = h.client.tax.as(id, newKey);

      // Before it is added, the new key is not a signer of the department.
      await refused(fresh.get(`/v1/departments/${id}`), 403, "AUTH_NOT_DEPARTMENT_SIGNER");
      const asked = await call(old, "POST", `/v1/departments/${id}/signer-changes`, { action: "add", signer: newKey.address });
      expect(asked.status).to.equal(200); // the SignerChange to sign: nothing changed yet
      expect(asked.body.needed).to.equal(1);
      await refused(fresh.get(`/v1/departments/${id}`), 403, "AUTH_NOT_DEPARTMENT_SIGNER");
      const added = await old.changeKeys({ action: "add", signer: newKey.address });
      expect(added.tx).to.match(/^0x[0-9a-f]{64}$/);
      expect((await fresh.get<Department>(`/v1/departments/${id}`)).signers).to.have.members([oldKey.address.toLowerCase(), newKey.address.toLowerCase()]);

      const removed = await fresh.changeKeys({ action: "remove", signer: oldKey.address });
      expect(removed.tx).to.match(/^0x[0-9a-f]{64}$/);

      await refused(old.get(`/v1/departments/${id}`), 403, "AUTH_KEY_REVOKED");
      const d = await fresh.get<Department>(`/v1/departments/${id}`);
      expect(d.signers).to.deep.equal([newKey.address.toLowerCase()]);

      // The last signer cannot be removed.
      await refused(fresh.changeKeys({ action: "remove", signer: newKey.address }), 409, "LAST_SIGNER");
      expect((await fresh.get<Department>(`/v1/departments/${id}`)).signers).to.deep.equal([newKey.address.toLowerCase()]);
    });

    it("refuses a department, or the governor, changing another department's keys", async () => {
      await refused(h.client.tax.post(`/v1/departments/${D.water}/signer-changes`, { action: "add", signer: wallet().address }), 403, "FORBIDDEN_ROLE");
      await refused(h.client.tax.post(`/v1/departments/${D.water}/signer-changes`, { action: "remove", signer: h.keys.water.address }), 403, "FORBIDDEN_ROLE");
      await refused(h.governor.post(`/v1/departments/${D.water}/signer-changes`, { action: "add", signer: wallet().address }), 403, "FORBIDDEN_ROLE");
      expect((await h.client.water.get<Department>(`/v1/departments/${D.water}`)).signers).to.deep.equal([h.keys.water.address.toLowerCase()]);
    });

    it("grants a role: a new key with the exchange role may query provenance", async () => {
      const key = wallet();
      const { id } = await h.governor.post<{ id: string }>("/v1/departments", { code: "cq.exchange2", level: "city", signers: [key.address] });
      const dept = h.client.tax.as(id, key);
      const unknownHash = ethers.id("no such product");
      await refused(dept.get(`/v1/provenance/${unknownHash}`), 403, "FORBIDDEN_ROLE");
      await refused(h.client.tax.post("/v1/roles", { role: "exchange", account: key.address }), 403, "FORBIDDEN_ROLE");
      const granted = await call(h.governor, "POST", "/v1/roles", { role: "exchange", account: key.address });
      expect(granted.status).to.equal(201);
      // Past the role check now: an unknown hash is a 404, not a 403.
      await refused(dept.get(`/v1/provenance/${unknownHash}`), 404, "NOT_FOUND");
    });
  });

  describe("catalog", () => {
    it("lets the owner's signer register a resource", async () => {
      const schemaHash = ethers.id("schema:water-permits");
      const r = await call(h.client.water, "POST", "/v1/resources", { code: "res.water.permits", owner: D.water, schemaHash, condition: "unconditional", personal: false });
      expect(r.status).to.equal(201);
      expect(r.body.id).to.equal(codeId("res.water.permits"));
      const got = await h.client.tax.get<Resource>(`/v1/resources/${r.body.id}`);
      expect(got).to.deep.equal({ id: codeId("res.water.permits"), owner: D.water, schemaHash, condition: "unconditional", personal: false, version: 1 });
    });

    it("lets the governor register a resource for a department", async () => {
      const r = await call(h.governor, "POST", "/v1/resources", { code: "res.tax.payers", owner: D.tax, schemaHash: ethers.id("schema:payers"), condition: "conditional", personal: true });
      expect(r.status).to.equal(201);
      const got = await h.client.water.get<Resource>(`/v1/resources/${codeId("res.tax.payers")}`);
      expect([got.owner, got.condition, got.personal]).to.deep.equal([D.tax, "conditional", true]);
    });

    it("refuses a registration for another department's resource, and a duplicate", async () => {
      await refused(
        h.client.tax.post("/v1/resources", { code: "res.water.fake", owner: D.water, schemaHash: ethers.id("x"), condition: "unconditional", personal: false }),
        403,
        "FORBIDDEN_ROLE",
      );
      await refused(h.client.tax.get(`/v1/resources/${codeId("res.water.fake")}`), 404, "NOT_FOUND");
      await refused(
        h.client.water.post("/v1/resources", { code: "res.water.fees", owner: D.water, schemaHash: ethers.id("x"), condition: "unconditional", personal: false }),
        409,
        "RESOURCE_EXISTS",
      );
    });

    it("publishes a new version on update by the owner, and refuses others", async () => {
      const before = await h.client.water.get<Resource>(`/v1/resources/${R.waterFees}`);
      const schemaHash = ethers.id("schema:water-fees:v2");
      const r = await call(h.client.water, "PUT", `/v1/resources/${R.waterFees}`, { schemaHash, condition: "conditional", personal: false });
      expect(r.status).to.equal(200);
      const after = await h.client.water.get<Resource>(`/v1/resources/${R.waterFees}`);
      expect(after.version).to.equal(before.version + 1);
      expect(after.schemaHash).to.equal(schemaHash);

      await refused(h.client.tax.request("PUT", `/v1/resources/${R.waterFees}`, { schemaHash: ethers.id("evil"), condition: "unconditional", personal: false }), 403, "FORBIDDEN_ROLE");
      const unchanged = await h.client.water.get<Resource>(`/v1/resources/${R.waterFees}`);
      expect([unchanged.version, unchanged.schemaHash, unchanged.condition]).to.deep.equal([after.version, schemaHash, "conditional"]);

      // The governor may update any resource.
      await h.governor.request("PUT", `/v1/resources/${R.waterFees}`, { schemaHash: ethers.id("schema:water-fees:v3"), condition: "conditional", personal: false });
      expect((await h.client.water.get<Resource>(`/v1/resources/${R.waterFees}`)).version).to.equal(before.version + 2);
    });

    it("answers 404 for an unknown resource", async () => {
      const unknown = codeId("res.nowhere");
      await refused(h.client.water.get(`/v1/resources/${unknown}`), 404, "NOT_FOUND");
      await refused(h.client.water.request("PUT", `/v1/resources/${unknown}`, { schemaHash: ethers.id("x"), condition: "unconditional", personal: false }), 404, "NOT_FOUND");
    });
  });
});
