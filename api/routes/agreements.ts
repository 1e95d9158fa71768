/** Sharing agreements: draft → typed data → each party's signature → on chain; revoke; suspend and resume (regulator). */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { ethers } from "ethers";
import type { RouteContext } from "../app";
import { requireSigned } from "../auth/authenticate";
import { authErrors, Bytes32, IdParam, PurposeText, Signature, SignatureBody, TypedDataSchema, Uint64, UnixSeconds } from "../schemas";
import { relayAccepted } from "./relays";

const Draft = z.any().describe("the node's record: terms, signatures, transactions");

/** Purpose hash from a text or a given hash. */
export function purposeHashOf(body: { purpose?: string; purposeHash?: string }): string | undefined {
  return body.purposeHash ?? (body.purpose !== undefined ? ethers.id(body.purpose) : undefined);
}

/** Reason hash of a suspension (or a regulator's revocation of a consent) from a text or a given hash; zero when neither is given. */
export function reasonHashOf(q: { reason?: string; reasonHash?: string }): string {
  return q.reasonHash ?? (q.reason ? ethers.id(q.reason) : ethers.ZeroHash);
}

export const agreementRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app, { ctx }) => {
  const { node } = ctx;
  const signed = requireSigned(ctx.auth);

  app.post(
    "/agreements",
    {
      preHandler: signed,
      schema: {
        tags: ["agreements"],
        summary: "Draft an agreement (a party); returns the EIP-712 typed data both parties sign",
        body: z
          .strictObject({
            provider: Bytes32, consumer: Bytes32, resource: Bytes32,
            purpose: PurposeText.optional(), purposeHash: Bytes32.optional(),
            quota: Uint64, validFrom: UnixSeconds, validUntil: UnixSeconds, nonce: Uint64.optional(),
            meteringLog: Bytes32.optional().describe("the log that meters the agreement (keccak256 of its code); default: this node's log"),
          })
          .refine((b) => (b.purpose === undefined) !== (b.purposeHash === undefined), "give exactly one of purpose and purposeHash"),
        response: { 201: z.object({ id: z.string(), typedData: TypedDataSchema, draft: Draft }), ...authErrors },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const { draft, typedData } = await node.agreements.draft(req.principal!.department, {
        provider: b.provider, consumer: b.consumer, resource: b.resource, purposeHash: purposeHashOf(b)!,
        quota: b.quota, validFrom: String(b.validFrom), validUntil: String(b.validUntil),
        nonce: b.nonce ?? String(Math.floor(Math.random() * 2 ** 48)),
        ...(b.meteringLog ? { meteringLog: b.meteringLog } : {}),
      });
      return reply.code(201).send({ id: draft.id, typedData, draft });
    },
  );

  app.post(
    "/agreements/:id/signatures",
    {
      preHandler: signed,
      schema: {
        tags: ["agreements"],
        summary: "Post this department's EIP-712 signature; the second one activates the agreement on chain",
        params: IdParam, body: SignatureBody,
        response: { ...relayAccepted, 200: z.object({ id: z.string(), active: z.boolean(), draft: Draft }), ...authErrors },
      },
    },
    async (req) => {
      const draft = await node.agreements.sign(req.params.id, req.principal!.department, req.body.signature);
      return { id: draft.id, active: draft.activation !== undefined, draft };
    },
  );

  app.get(
    "/agreements",
    {
      preHandler: signed,
      schema: {
        tags: ["agreements"],
        summary: "Every agreement on chain with its state, quota and records served so far (`usage`); filter by `status` or `party`",
        querystring: z.strictObject({ status: z.enum(["active", "suspended", "revoked"]).optional(), party: Bytes32.optional() }),
        response: { 200: z.object({ agreements: z.array(z.object({ id: z.string(), usage: z.string() }).passthrough()) }), ...authErrors },
      },
    },
    async (req) => {
      const { status, party } = req.query;
      const all = await node.indexer.agreements();
      const agreements = all
        .filter((a) => (!status || a.status === status) && (!party || a.provider === party || a.consumer === party))
        .map((a) => ({ ...a, usage: node.access.usageOf(a.id).toString() }));
      return { agreements };
    },
  );

  app.get(
    "/agreements/:id",
    {
      preHandler: signed,
      schema: {
        tags: ["agreements"],
        summary: "An agreement: terms, signatures, on-chain state and usage, and the typed data of its next actions (a suspension for `reason` or `reasonHash`, if given)",
        params: IdParam,
        querystring: z
          .strictObject({ reason: z.string().min(1).max(500).optional(), reasonHash: Bytes32.optional() })
          .refine((q) => !(q.reason !== undefined && q.reasonHash !== undefined), "give at most one of reason and reasonHash"),
        response: { 200: z.object({ id: z.string(), draft: Draft.optional(), onChain: z.unknown().optional(), usage: z.string(), typedData: z.record(z.string(), TypedDataSchema) }), ...authErrors },
      },
    },
    async (req) => {
      const { draft, onChain } = await node.agreements.get(req.params.id);
      const typedData: Record<string, unknown> = {};
      if (draft) typedData.activation = node.agreements.typedData(draft);
      // Until it is on chain (or cancelled), either party may cancel the draft.
      if (draft && !onChain && !draft.cancellation) typedData.cancellation = node.agreements.cancellationTypedData(draft.id);
      if (onChain) {
        typedData.revocation = node.agreements.revocationTypedData(req.params.id);
        // The suspension's typed data binds the reason POST /suspend will be given, so it must be known here.
        if (onChain.status === "active") typedData.suspension = await node.agreements.statusTypedData(req.params.id, "suspended", reasonHashOf(req.query));
        if (onChain.status === "suspended") typedData.resumption = await node.agreements.statusTypedData(req.params.id, "active", ethers.ZeroHash);
      }
      return { id: req.params.id, draft, onChain, usage: node.access.usageOf(req.params.id).toString(), typedData: typedData as never };
    },
  );

  app.post(
    "/agreements/:id/revoke",
    {
      preHandler: signed,
      schema: {
        tags: ["agreements"],
        summary: "Revoke (provider): signature over AgreementRevocation(agreementId)",
        params: IdParam, body: SignatureBody,
        response: { ...relayAccepted, 200: z.object({ id: z.string(), status: z.string() }), ...authErrors },
      },
    },
    async (req) => {
      await node.agreements.revoke(req.params.id, req.principal!.department, req.body.signature);
      return { id: req.params.id, status: (await node.indexer.agreement(req.params.id))?.status ?? "revoked" };
    },
  );

  app.post(
    "/agreements/:id/cancel",
    {
      preHandler: signed,
      schema: {
        tags: ["agreements"],
        summary: "Cancel a draft not yet on chain (either party): signature over AgreementCancellation(agreementId); its terms can then never be activated",
        params: IdParam, body: SignatureBody,
        response: { ...relayAccepted, 200: z.object({ id: z.string(), cancelled: z.boolean(), tx: z.string(), block: z.number() }), ...authErrors },
      },
    },
    async (req) => {
      const d = await node.agreements.cancel(req.params.id, req.principal!.department, req.body.signature);
      return { id: d.id, cancelled: true, tx: d.cancellation!.tx, block: d.cancellation!.block };
    },
  );

  const statusChange = (target: "suspended" | "active") => async (req: { params: { id: string }; body: { signature: string; reason?: string; reasonHash?: string } }) => {
    const reasonHash = reasonHashOf(req.body);
    await node.agreements.changeStatus(req.params.id, target, reasonHash, req.body.signature);
    return { id: req.params.id, status: (await node.indexer.agreement(req.params.id))?.status ?? target };
  };

  app.post(
    "/agreements/:id/suspend",
    {
      preHandler: signed,
      schema: {
        tags: ["agreements"],
        summary: "Suspend (regulator): a regulator-role key's signature over AgreementStatusChange(agreementId, 2, reasonHash, nonce)",
        params: IdParam,
        body: z.strictObject({ signature: Signature, reason: z.string().min(1).max(500).optional(), reasonHash: Bytes32.optional() }),
        response: { ...relayAccepted, 200: z.object({ id: z.string(), status: z.string() }), ...authErrors },
      },
    },
    statusChange("suspended"),
  );

  app.post(
    "/agreements/:id/resume",
    {
      preHandler: signed,
      schema: {
        tags: ["agreements"],
        summary: "Resume (regulator): signature over AgreementStatusChange(agreementId, 1, 0x0, nonce)",
        params: IdParam, body: SignatureBody,
        response: { ...relayAccepted, 200: z.object({ id: z.string(), status: z.string() }), ...authErrors },
      },
    },
    statusChange("active"),
  );
};
