/** Non-tax transfers: batch → co-signatures → chain; reconciliation → co-signatures → chain; disputes with proofs. */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { ethers } from "ethers";
import type { RouteContext } from "../app";
import { requireSigned } from "../auth/authenticate";
import { ROLES } from "../../node/chain/ids";
import { fail } from "../../node/errors";
import type { FastifyRequest } from "fastify";
import { authErrors, Bytes32, IdParam, Index, Signature, SignatureBody, sizedArray, TypedDataSchema, uint } from "../schemas";
import { relayAccepted } from "./relays";

const Json = z.any();
const MAX_RECORDS = 100_000;

export const transferRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app, { ctx }) => {
  const { node } = ctx;
  const signed = requireSigned(ctx.auth);
  /** Fee records name payers and amounts: only the two parties, the regulator and the exchange read them. */
  const partyOrOverseer = async (req: FastifyRequest) => {
    await signed(req, undefined as never);
    const { draft } = await node.transfers.get((req.params as { id: string }).id.toLowerCase());
    const p = req.principal!;
    if (p.department === draft.batch.from || p.department === draft.batch.to) return;
    if ((await node.indexer.hasRole(ROLES.regulator, p.signer)) || (await node.indexer.hasRole(ROLES.exchange, p.signer))) return;
    throw fail.forbidden("FORBIDDEN_NOT_PARTY", `department ${p.department} is not a party to transfer ${draft.id}`);
  };

  app.get(
    "/transfers",
    {
      preHandler: signed,
      schema: {
        tags: ["transfers"],
        summary: "Transfer batches on chain (the regulator and the exchange see all, a department those it is a party to), with reconciliation and disputes, newest period first",
        response: { 200: z.object({ transfers: z.array(Json) }), ...authErrors },
      },
    },
    async (req) => {
      const p = req.principal!;
      const overseer = (await node.indexer.hasRole(ROLES.regulator, p.signer)) || (await node.indexer.hasRole(ROLES.exchange, p.signer));
      const transfers = (await node.indexer.transfers())
        .filter((t) => overseer || t.from === p.department || t.to === p.department)
        .sort((a, b) => b.period - a.period || b.submittedAt - a.submittedAt);
      return { transfers };
    },
  );

  app.post(
    "/transfers",
    {
      preHandler: signed,
      schema: {
        tags: ["transfers"],
        summary: "Post a batch of fee records (providing department); returns the computed root, count, total and the typed data",
        body: z.strictObject({
          to: Bytes32,
          category: z.enum(["water-resource-fee", "civil-air-defence-relocation-fee"]),
          period: uint(32, "number", { min: 190001, max: 999912 }).describe("YYYYMM"),
          records: sizedArray(z.record(z.string(), z.unknown()), {
            min: 1, max: MAX_RECORDS,
            tooFew: { code: "TRANSFER_EMPTY", message: "a batch holds at least one record" },
            tooMany: { code: "TRANSFER_TOO_LARGE", message: `a batch holds at most ${MAX_RECORDS} records` },
          }),
          parents: z.array(Bytes32).max(16).optional(),
        }),
        response: { 201: z.object({ id: z.string(), batch: Json, typedData: TypedDataSchema }), ...authErrors },
      },
    },
    async (req, reply) => {
      const { draft, typedData } = await node.transfers.draft(req.principal!.department, req.body, ctx.now());
      return reply.code(201).send({ id: draft.id, batch: draft.batch, typedData });
    },
  );

  app.post(
    "/transfers/:id/signatures",
    {
      preHandler: signed,
      schema: {
        tags: ["transfers"],
        summary: "A party's signature of the batch; the second one puts it on chain",
        params: IdParam, body: SignatureBody,
        response: { ...relayAccepted, 200: z.object({ id: z.string(), submitted: z.boolean(), submission: Json }), ...authErrors },
      },
    },
    async (req) => {
      const d = await node.transfers.signBatch(req.params.id, req.principal!.department, req.body.signature);
      return { id: d.id, submitted: d.submission !== undefined, submission: d.submission };
    },
  );

  app.post(
    "/transfers/:id/reconciliation",
    {
      preHandler: signed,
      schema: {
        tags: ["transfers"],
        summary: "The receiving (tax) department's collection result per record; returns the reconciliation typed data",
        params: IdParam,
        body: z.strictObject({
          results: sizedArray(z.record(z.string(), z.unknown()), {
            min: 1, max: MAX_RECORDS,
            tooFew: { code: "RESULTS_COUNT", message: "one result per record of the batch, so at least one" },
            tooMany: { code: "RESULTS_COUNT", message: `one result per record of the batch, so at most ${MAX_RECORDS}` },
          }),
        }),
        response: { 201: z.object({ id: z.string(), reconciliation: Json, typedData: TypedDataSchema }), ...authErrors },
      },
    },
    async (req, reply) => {
      const { draft, typedData } = await node.transfers.draftReconciliation(req.params.id, req.principal!.department, req.body.results, ctx.now());
      return reply.code(201).send({ id: draft.id, reconciliation: draft.reconciliation!.value, typedData });
    },
  );

  app.post(
    "/transfers/:id/reconciliation/signatures",
    {
      preHandler: signed,
      schema: {
        tags: ["transfers"],
        summary: "A party's signature of the reconciliation; the second one puts it on chain",
        params: IdParam, body: SignatureBody,
        response: { ...relayAccepted, 200: z.object({ id: z.string(), reconciled: z.boolean(), submission: Json, seconds: z.number().optional() }), ...authErrors },
      },
    },
    async (req) => {
      const d = await node.transfers.signReconciliation(req.params.id, req.principal!.department, req.body.signature, ctx.now());
      const sub = d.reconciliation?.submission;
      return { id: d.id, reconciled: sub !== undefined, submission: sub, ...(sub ? { seconds: sub.at - d.draftedAt } : {}) };
    },
  );

  app.get(
    "/transfers/:id",
    {
      preHandler: partyOrOverseer,
      schema: {
        tags: ["transfers"],
        summary: "A transfer: batch, signatures, reconciliation, disputes, on-chain state, and the typed data of the batch and (until it is on chain or cancelled) of its cancellation",
        params: IdParam,
        response: { 200: z.object({ id: z.string(), draft: Json, onChain: Json, typedData: z.object({ batch: TypedDataSchema, cancellation: TypedDataSchema.optional() }) }), ...authErrors },
      },
    },
    async (req) => {
      const { draft, onChain } = await node.transfers.get(req.params.id);
      const { records: _records, ...rest } = draft;
      const open = !onChain && !draft.submission && !draft.cancellation;
      const typedData = { batch: node.transfers.batchTypedData(draft), ...(open ? { cancellation: node.transfers.cancellationTypedData(draft.id) } : {}) };
      return { id: draft.id, draft: { ...rest, recordCount: draft.records.length }, onChain, typedData };
    },
  );

  app.post(
    "/transfers/:id/cancel",
    {
      preHandler: signed,
      schema: {
        tags: ["transfers"],
        summary: "Cancel a batch not yet on chain (either party): signature over TransferCancellation(transferId); it can then never be submitted",
        params: IdParam, body: SignatureBody,
        response: { ...relayAccepted, 200: z.object({ id: z.string(), cancelled: z.boolean(), tx: z.string(), block: z.number() }), ...authErrors },
      },
    },
    async (req) => {
      const d = await node.transfers.cancel(req.params.id, req.principal!.department, req.body.signature);
      return { id: d.id, cancelled: true, tx: d.cancellation!.tx, block: d.cancellation!.block };
    },
  );

  app.get(
    "/transfers/:id/records/:index",
    {
      preHandler: partyOrOverseer,
      schema: {
        tags: ["transfers"],
        summary: "One record with its canonical bytes, leaf hash and inclusion proof against the records root",
        params: z.strictObject({ id: Bytes32, index: Index }),
        response: { 200: z.object({ record: Json, canonical: z.string(), leafHash: z.string(), proof: z.array(z.string()) }), ...authErrors },
      },
    },
    async (req) => node.transfers.record(req.params.id, req.params.index),
  );

  app.post(
    "/transfers/:id/disputes/typed-data",
    {
      preHandler: signed,
      schema: {
        tags: ["transfers"],
        summary: "The typed data this department signs to dispute one record",
        params: IdParam,
        body: z.strictObject({ leafIndex: uint(64, "number"), reason: z.string().min(1).max(500).optional(), reasonHash: Bytes32.optional() }),
        response: { 200: TypedDataSchema, ...authErrors },
      },
    },
    async (req) => node.transfers.disputeTypedData(req.params.id, req.principal!.department, req.body.leafIndex, req.body.reasonHash ?? ethers.id(req.body.reason ?? "")),
  );

  app.post(
    "/transfers/:id/disputes",
    {
      preHandler: signed,
      schema: {
        tags: ["transfers"],
        summary: "Dispute one record (either party): the node relays it with the record's Merkle proof",
        params: IdParam,
        body: z.strictObject({ leafIndex: uint(64, "number"), reason: z.string().min(1).max(500).optional(), reasonHash: Bytes32.optional(), signature: Signature }),
        response: { ...relayAccepted, 201: z.object({ id: z.string(), disputes: Json }), ...authErrors },
      },
    },
    async (req, reply) => {
      const reasonHash = req.body.reasonHash ?? ethers.id(req.body.reason ?? "");
      const d = await node.transfers.dispute(req.params.id, req.principal!.department, req.body.leafIndex, reasonHash, req.body.signature);
      return reply.code(201).send({ id: d.id, disputes: d.disputes });
    },
  );
};
