/**
 * Risk alerts over real HTTP: GET /v1/alerts with filters and paging, one alert, acknowledgement,
 * dcl_alerts_total in /metrics, and the server-sent events stream GET /v1/alerts/stream — backlog,
 * live alerts, and resuming after Last-Event-ID.
 */
import { expect } from "chai";
import { ethers } from "ethers";
import type { ApiTypedData } from "../../api/client";
import type { AlertView } from "../../node/alerts/alert";
import { startApiHarness, type ApiHarness } from "../support/api-harness";
import { refused } from "../support/api-refused";
import { D, R } from "../support/node-harness";

const now = () => Math.floor(Date.now() / 1000);

interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

/** A signed SSE connection: its events as they come. */
async function stream(h: ApiHarness, query = "", headers: Record<string, string> = {}) {
  const path = `/v1/alerts/stream${query}`;
  const res = await fetch(h.baseUrl + path, { headers: { ...(await h.client.regulator.signHeaders("GET", path, new Uint8Array())), ...headers } });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const reader = res.body!.getReader();
  let buffer = "";
  const pump = (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) return;
      buffer += new TextDecoder().decode(value);
      let cut: number;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const e: SseEvent = {};
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) comments.push(line.slice(1).trim());
          else {
            const [k, ...v] = line.split(": ");
            (e as Record<string, string>)[k] = v.join(": ");
          }
        }
        if (Object.keys(e).length > 0) events.push(e);
      }
    }
  })();
  return {
    res, events, comments,
    /** Waits until `n` events came (the test fails, not hangs, if they do not). */
    async until(n: number): Promise<SseEvent[]> {
      for (let i = 0; i < 400 && events.length < n; i++) await new Promise((r) => setTimeout(r, 25));
      expect(events.length, `events received on ${path}`).to.be.at.least(n);
      return events;
    },
    async close() {
      await reader.cancel().catch(() => undefined);
      await pump;
    },
  };
}

describe("alerts API (over HTTP, against anvil)", function () {
  let h: ApiHarness;
  let seq = 0;

  /** An agreement of `quota` records, co-signed, and a call beyond it: quota_exhausted. */
  async function overQuota(): Promise<string> {
    const { tax, water } = h.client;
    const d = await tax.post<{ id: string; typedData: ApiTypedData }>("/v1/agreements", {
      provider: D.water, consumer: D.tax, resource: R.waterFees, purpose: `alerts ${++seq}`, quota: "10", validFrom: now() - 60, validUntil: now() + 3600,
    });
    await water.post(`/v1/agreements/${d.id}/signatures`, { signature: await water.signTypedData(d.typedData) });
    await tax.post(`/v1/agreements/${d.id}/signatures`, { signature: await tax.signTypedData(d.typedData) });
    await tax.post("/v1/access", { calls: [{ agreementId: d.id, recordCount: 11, requestHash: ethers.id(`q${seq}`), responseHash: ethers.id(`r${seq}`) }] });
    return d.id;
  }

  before(async () => {
    h = await startApiHarness({ sseKeepAliveMs: 100 });
    h.node.alerts.start(50);
  });
  after(async () => h?.stop());

  it("streams the backlog, then each new alert as it is raised, with its seq as the event id", async () => {
    const first = await overQuota();
    const s = await stream(h, "?after=0");
    expect(s.res.status).to.equal(200);
    expect(s.res.headers.get("content-type")).to.equal("text/event-stream; charset=utf-8");
    const [backlog] = await s.until(1);
    const a = JSON.parse(backlog.data!) as AlertView;
    expect(backlog.event).to.equal("alert");
    expect(backlog.id).to.equal(String(a.seq));
    expect(a).to.deep.include({ rule: "quota_exhausted", agreementId: first, department: D.water, acknowledged: null });
    const second = await overQuota();
    const events = await s.until(2);
    const live = JSON.parse(events[1].data!) as AlertView;
    expect(live).to.deep.include({ rule: "quota_exhausted", agreementId: second, seq: a.seq + 1 });
    await s.until(2);
    for (let i = 0; i < 100 && !s.comments.includes("keep-alive"); i++) await new Promise((r) => setTimeout(r, 20));
    expect(s.comments).to.include("keep-alive");
    await s.close();
  });

  it("resumes after Last-Event-ID: only the alerts after it", async () => {
    const all = (await h.client.regulator.get<{ alerts: AlertView[] }>("/v1/alerts")).alerts;
    expect(all.length).to.be.at.least(2);
    const s = await stream(h, "", { "last-event-id": String(all[0].seq) });
    const events = await s.until(all.length - 1);
    expect(events.map((e) => Number(e.id))).to.deep.equal(all.slice(1).map((a) => a.seq));
    await s.close();
    const fresh = await stream(h); // no position: only what comes next
    await new Promise((r) => setTimeout(r, 150));
    expect(fresh.events).to.deep.equal([]);
    await fresh.close();
  });

  it("refuses the stream to other departments and a malformed Last-Event-ID", async () => {
    const path = "/v1/alerts/stream";
    const tax = await fetch(h.baseUrl + path, { headers: await h.client.tax.signHeaders("GET", path, new Uint8Array()) });
    expect([tax.status, (await tax.json()).error.code]).to.deep.equal([403, "FORBIDDEN_ROLE"]);
    const bad = await fetch(h.baseUrl + path, { headers: { ...(await h.client.regulator.signHeaders("GET", path, new Uint8Array())), "last-event-id": "1e3" } });
    expect([bad.status, (await bad.json()).error.code]).to.deep.equal([400, "VALIDATION_FAILED"]);
  });

  it("lists alerts with filters and totals, serves one, and records the regulator's acknowledgement", async () => {
    const list = await h.client.regulator.get<{ alerts: AlertView[]; next: number | null; totals: Record<string, number> }>("/v1/alerts?rule=quota_exhausted&status=open");
    expect(list.alerts.length).to.equal(2);
    expect(list.totals).to.deep.include({ quota_exhausted: 2, peer_fork: 0 });
    const page = await h.client.regulator.get<{ alerts: AlertView[]; next: number | null }>("/v1/alerts?limit=1");
    expect(page.next).to.equal(page.alerts[0].seq);
    const [a] = list.alerts;
    const acked = await h.client.regulator.post<AlertView>(`/v1/alerts/${a.id}/acknowledge`, { note: "agreement renewed with a larger quota" });
    expect(acked.acknowledged).to.deep.include({ department: D.regulator, signer: h.keys.regulator.address.toLowerCase(), note: "agreement renewed with a larger quota" });
    expect((await h.client.regulator.get<AlertView>(`/v1/alerts/${a.id}`)).acknowledged).to.deep.equal(acked.acknowledged);
    expect((await h.client.regulator.get<{ alerts: AlertView[] }>("/v1/alerts?status=acknowledged")).alerts.map((x) => x.id)).to.deep.equal([a.id]);
    await refused(h.client.regulator.get(`/v1/alerts/0x${"ab".repeat(16)}`), 404, "NOT_FOUND");
    await refused(h.client.regulator.post(`/v1/alerts/0x${"ab".repeat(16)}/acknowledge`, {}), 404, "NOT_FOUND");
    await refused(h.client.tax.get("/v1/alerts"), 403, "FORBIDDEN_ROLE");
    await refused(h.client.regulator.get("/v1/alerts?rule=nonsense"), 400, "VALIDATION_FAILED");
    await refused(h.client.regulator.get("/v1/alerts/42"), 400, "VALIDATION_FAILED");
  });

  it("reads the anchored checkpoints from an index on (each anchor is checked for lag once)", async () => {
    for (let i = 0; i < 2; i++) {
      await h.client.tax.post("/v1/access", { calls: [{ agreementId: ethers.id("none"), recordCount: 1, requestHash: ethers.id(`a${i}`), responseHash: ethers.id(`b${i}`) }] });
      await h.node.anchorer.anchorOnce();
    }
    await h.node.indexer.syncOnce();
    const all = await h.node.indexer.checkpoints(h.node.logId);
    expect(all.length).to.be.at.least(2);
    expect(await h.node.indexer.checkpoints(h.node.logId, 1)).to.deep.equal(all.slice(1));
    expect(await h.node.indexer.checkpoints(h.node.logId, all.length)).to.deep.equal([]);
  });

  it("counts alerts by rule in /metrics as dcl_alerts_total", async () => {
    const text = await (await fetch(h.baseUrl + "/metrics")).text();
    expect(text).to.contain("# TYPE dcl_alerts_total counter");
    expect(text).to.match(/^dcl_alerts_total\{rule="quota_exhausted"\} 2$/m);
    expect(text).to.match(/^dcl_alerts_total\{rule="peer_fork"\} 0$/m);
  });

  it("counts worker threads replaced after a hang in /metrics as dcl_worker_restarts_total, for both workers", async () => {
    const text = await (await fetch(h.baseUrl + "/metrics")).text();
    expect(text).to.contain("# TYPE dcl_worker_restarts_total counter");
    expect(text).to.match(/^dcl_worker_restarts_total\{worker="signature-checks"\} 0$/m);
    expect(text).to.match(/^dcl_worker_restarts_total\{worker="receipt-signer"\} 0$/m);
  });
});
