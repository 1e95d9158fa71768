/**
 * Bounded answers with the chain frozen (issue 13): anvil, started separately, is stopped with SIGSTOP
 * (it holds its connections and answers nothing, as a hung chain does); a request that relays a
 * transaction is answered 202 with its relay within DCL_RELAY_WAIT_MS instead of hanging, the same
 * signatures posted again find the same relay, /metrics shows the outbox's depth and age, and after
 * SIGCONT the relay is mined once and what it did reads as usual. A relay the chain refuses after its
 * 202 ends failed with the contract's custom error. Real HTTP over loopback, real LevelDB.
 */
import { expect } from "chai";
import { ethers } from "ethers";
import { ApiError, type ApiRelay, type ApiTypedData, type RelayOutcome } from "../../api/client";
import { codeId } from "../../node/chain/ids";
import { startApiHarness, type ApiHarness } from "../support/api-harness";
import { D, R } from "../support/node-harness";

describe("api relays: the chain frozen (SIGSTOP), answers in bounded time and the outcome later", function () {
  this.timeout(180_000);
  let h: ApiHarness;
  let frozen = false;
  const now = () => Math.floor(Date.now() / 1000);

  const freeze = () => {
    process.kill(h.anvil.pid!, "SIGSTOP");
    frozen = true;
  };
  const thaw = () => {
    if (frozen) process.kill(h.anvil.pid!, "SIGCONT");
    frozen = false;
  };
  /** A metric's value from GET /metrics. */
  const metric = async (name: string) => {
    const text = await (await fetch(`${h.baseUrl}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith(name + " "));
    expect(line, `${name} in /metrics`).to.be.a("string");
    return Number(line!.split(" ")[1]);
  };
  const relayOf = async (id: string) => {
    const res = await fetch(`${h.baseUrl}/v1/relays/${id}`);
    return { status: res.status, body: (await res.json()) as { relay: ApiRelay; error?: { code: string } } };
  };
  /** A drafted agreement the provider (water) has signed: the consumer's (tax) signature activates it. */
  const halfSigned = async (resource: string = R.waterFees) => {
    const d = await h.client.tax.post<{ id: string; typedData: ApiTypedData }>("/v1/agreements", {
      provider: D.water, consumer: D.tax, resource, purpose: `relays ${Math.random()}`, quota: "100", validFrom: now() - 60, validUntil: now() + 3600,
    });
    const first = await h.client.water.post<{ active: boolean }>(`/v1/agreements/${d.id}/signatures`, { signature: await h.client.water.signTypedData(d.typedData) });
    expect(first.active).to.equal(false);
    return { ...d, signature: await h.client.tax.signTypedData(d.typedData) };
  };
  const activations = async (id: string) => {
    const agreements = h.node.client.reader.agreements;
    return (await agreements.queryFilter(agreements.filters.AgreementActivated(id), 0)).length;
  };

  before(async () => {
    h = await startApiHarness();
    // As the product runs it: the indexer follows the chain on its own (what a relay mined after its 202 did is read from it).
    h.node.indexer.start();
  });
  afterEach(() => thaw());
  after(async () => h?.stop());

  it("answers the activating co-signature 202 with its relay while the chain is frozen; a re-post finds the same relay; thawed, it is mined once and the agreement reads active", async () => {
    const d = await halfSigned();
    const path = `/v1/agreements/${d.id}/signatures`;
    freeze();
    const res = await h.client.tax.send("POST", path, { signature: d.signature });
    expect(res.status, "accepted, not hung").to.equal(202);
    const { relay } = (await res.json()) as { relay: ApiRelay };
    expect(relay).to.include({ contract: "agreements", method: "activate", repeatable: false });
    expect(relay.state).to.be.oneOf(["pending", "sent"]);
    expect(res.headers.get("location")).to.equal(`/v1/relays/${relay.id}`);

    const again = await h.client.tax.send("POST", path, { signature: d.signature });
    expect(again.status).to.equal(202);
    expect(((await again.json()) as { relay: ApiRelay }).relay.id, "the same relay").to.equal(relay.id);
    const seen = await relayOf(relay.id);
    expect(seen.status).to.equal(200);
    expect(seen.body.relay.state).to.be.oneOf(["pending", "sent"]);
    expect(await metric("dcl_relay_outbox_depth")).to.be.at.least(1);
    expect(await metric("dcl_relay_oldest_pending_seconds")).to.be.greaterThan(0);
    const view = await h.client.tax.get<{ onChain?: unknown; draft: { activation?: unknown } }>(`/v1/agreements/${d.id}`);
    expect(view.onChain, "not on chain while frozen").to.equal(undefined);
    expect(view.draft.activation).to.equal(undefined);

    thaw();
    const mined = await h.client.tax.waitForRelay(relay.id);
    expect(mined.state).to.equal("mined");
    expect(mined.tx).to.match(/^0x[0-9a-f]{64}$/);
    expect(mined.block).to.be.a("number");
    let after = await h.client.tax.get<{ onChain?: { status: string }; draft: { activation?: { tx: string; block: number } } }>(`/v1/agreements/${d.id}`);
    for (let i = 0; i < 100 && !after.onChain; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await h.client.tax.get(`/v1/agreements/${d.id}`);
    }
    expect(after.onChain?.status).to.equal("active");
    expect(after.draft.activation, "the draft learns its activation from the relay").to.deep.equal({ tx: mined.tx, block: mined.block });
    expect(await activations(d.id), "activated once").to.equal(1);
    expect(await metric("dcl_relay_outbox_depth")).to.equal(0);
    expect(await metric("dcl_relay_oldest_pending_seconds")).to.equal(0);
    const late = await h.client.tax.send("POST", path, { signature: d.signature });
    expect(late.status, "once mined, a re-post meets the state it made").to.equal(409);
    expect(await activations(d.id)).to.equal(1);
  });

  it("the client follows a 202 by itself: the request resolves with the mined relay once the chain is back", async () => {
    const d = await halfSigned();
    freeze();
    const posting = h.client.tax.post<RelayOutcome>(`/v1/agreements/${d.id}/signatures`, { signature: d.signature });
    await new Promise((r) => setTimeout(r, 3000)); // past the server's 2 s wait: answered 202, the client polls
    thaw();
    const outcome = await posting;
    expect(outcome.relay.state).to.equal("mined");
    expect(outcome.tx).to.equal(outcome.relay.tx);
    expect(await activations(d.id)).to.equal(1);
  });

  it("a relay the chain refuses after its 202 ends failed with the contract's custom error; the client rejects it as CHAIN_REJECTED", async () => {
    const code = `res.relays.${Date.now()}`;
    const resource = codeId(code);
    await h.client.water.post("/v1/resources", { code, owner: D.water, schemaHash: ethers.id("schema"), condition: "conditional", personal: false });
    const d = await halfSigned(resource);
    freeze();
    // First in the outbox: the resource becomes not shareable; then the activation, which the contract must refuse.
    const update = await h.client.water.send("PUT", `/v1/resources/${resource}`, { schemaHash: ethers.id("schema v2"), condition: "not_shareable", personal: false });
    expect(update.status).to.equal(202);
    const updateRelay = ((await update.json()) as { relay: ApiRelay }).relay;
    expect(updateRelay).to.include({ method: "updateResource", repeatable: true });
    const activation = await h.client.tax.send("POST", `/v1/agreements/${d.id}/signatures`, { signature: d.signature });
    expect(activation.status).to.equal(202);
    const { relay } = (await activation.json()) as { relay: ApiRelay };
    thaw();
    expect((await h.client.water.waitForRelay(updateRelay.id)).state).to.equal("mined");
    const err = await h.client.tax.waitForRelay(relay.id).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ApiError);
    expect([(err as ApiError).status, (err as ApiError).code]).to.deep.equal([409, "CHAIN_REJECTED"]);
    const failed = await relayOf(relay.id);
    expect(failed.body.relay.state).to.equal("failed");
    expect(failed.body.relay.error?.code).to.equal("AgreementsResourceNotShareable");
    expect(failed.body.relay.error?.message).to.contain(resource);
    expect(failed.body.relay.tx, "refused before anything was signed").to.equal(undefined);
    expect(await activations(d.id)).to.equal(0);
  });

  it("a request that must read the chain itself (a signer change's nonce) answers 503 CHAIN_UNAVAILABLE while it is frozen, not hangs", async () => {
    freeze();
    const res = await h.client.water.send("POST", `/v1/departments/${D.water}/signer-changes`, { action: "add", signer: ethers.Wallet.createRandom().address });
    const body = (await res.json()) as { error?: { code: string } };
    expect([res.status, body.error?.code]).to.deep.equal([503, "CHAIN_UNAVAILABLE"]);
  });

  it("GET /v1/relays/:id is public, answers 404 for an id never recorded and 400 for a malformed one", async () => {
    const unknown = await relayOf(ethers.id("no relay"));
    expect([unknown.status, unknown.body.error?.code]).to.deep.equal([404, "NOT_FOUND"]);
    const res = await fetch(`${h.baseUrl}/v1/relays/nothex`);
    expect(res.status).to.equal(400);
  });
});
