/** The API over a ledger node on anvil, listening on 127.0.0.1, with a signed client per department. */
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { buildApp } from "../../api/app";
import { DclClient, type ApiTypedData } from "../../api/client";
import { D, R, startNodeHarness, type NodeHarness } from "./node-harness";

export interface ApiHarness extends NodeHarness {
  app: FastifyInstance;
  baseUrl: string;
  client: Record<keyof typeof D, DclClient>;
  /** A client signing with the node operator's key (the governor) for the big-data bureau. */
  governor: DclClient;
  stop(): Promise<void>;
}

/** Starts anvil, the node and the API. */
export async function startApiHarness(opts: { rateLimitPerMinute?: number; bodyLimitBytes?: number; sseKeepAliveMs?: number; logger?: Logger } = {}): Promise<ApiHarness> {
  const h = await startNodeHarness();
  const app = await buildApp({ node: h.node, logger: opts.logger ?? false, rateLimitPerMinute: opts.rateLimitPerMinute ?? 100_000, bodyLimitBytes: opts.bodyLimitBytes, sseKeepAliveMs: opts.sseKeepAliveMs });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as { port: number };
  const baseUrl = `http://127.0.0.1:${port}`;
  const options = { baseUrl, chainId: 31337n, registry: h.addresses.registry };
  const client = Object.fromEntries(Object.keys(D).map((k) => [k, new DclClient(options, D[k as keyof typeof D], h.keys[k as keyof typeof D])])) as ApiHarness["client"];
  return Object.assign(h, {
    app: app as unknown as FastifyInstance,
    baseUrl,
    client,
    governor: new DclClient(options, D.bigdata, h.operator),
    async stop() {
      await app.close();
      await h.close();
    },
  });
}

/**
 * A water → tax agreement on water's fee data, co-signed by both through the API (active from a minute
 * ago for a day, a quota no test reaches): the agreement the access tests log calls under. Its id.
 */
export async function waterToTaxAgreement(h: ApiHarness, purpose: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const d = await h.client.tax.post<{ id: string; typedData: ApiTypedData }>("/v1/agreements", {
    provider: D.water, consumer: D.tax, resource: R.waterFees, purpose, quota: "1000000", validFrom: now - 60, validUntil: now + 86_400,
  });
  for (const party of [h.client.water, h.client.tax]) await party.post(`/v1/agreements/${d.id}/signatures`, { signature: await party.signTypedData(d.typedData) });
  return d.id;
}
