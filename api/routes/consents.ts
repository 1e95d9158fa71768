/**
 * Consents: the recording department drafts (the ID number becomes a salted commitment and is
 * dropped), signs the typed data, the node grants on chain; revocation is one signature by the
 * recorder or the subject (or a regulator's key); a draft not yet granted is cancelled by one signature of the
 * recorder or the subject; checks at any time t; erasure of a subject (crypto-shredding).
 */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { ROLES } from "../../node/chain/ids";
import { fail } from "../../node/errors";
import type { RouteContext } from "../app";
import { requireRole, requireSigned } from "../auth/authenticate";
import { Address, authErrors, Bytes32, ErrorBody, IdParam, PurposeText, Signature, TypedDataSchema, UnixSeconds } from "../schemas";
import { relayAccepted } from "./relays";
import { purposeHashOf, reasonHashOf } from "./agreements";

/** An ID number as given by a department: never stored, never logged (bodies are not logged). */
export const SubjectId = z.string().min(4).max(64).regex(/^[0-9A-Za-z-]+$/, "letters, digits and '-'").describe("the subject's ID number; turned into a salted commitment and dropped");
const Kind = z.enum(["separate", "explicit"]);
const Json = z.any();

export const consentRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app, { ctx }) => {
  const { node } = ctx;
  const signed = requireSigned(ctx.auth);

  app.post(
    "/consents",
    {
      preHandler: signed,
      schema: {
        tags: ["consents"],
        summary: "Draft a consent recorded by this department; returns the typed data to sign",
        body: z
          .strictObject({
            subjectId: SubjectId, grantee: Bytes32, resource: Bytes32,
            purpose: PurposeText.optional(), purposeHash: Bytes32.optional(),
            kind: Kind, validUntil: UnixSeconds, evidenceHash: Bytes32, subjectSigner: Address.optional(),
          })
          .refine((b) => (b.purpose === undefined) !== (b.purposeHash === undefined), "give exactly one of purpose and purposeHash"),
        response: { 201: z.object({ id: z.string(), subject: z.string(), typedData: TypedDataSchema }), ...authErrors },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const { draft, typedData } = await node.consents.draft(req.principal!.department, {
        subjectId: b.subjectId, grantee: b.grantee, resource: b.resource, purposeHash: purposeHashOf(b)!,
        kind: b.kind === "separate" ? 0 : 1, validUntil: b.validUntil, evidenceHash: b.evidenceHash, subjectSigner: b.subjectSigner,
      }, ctx.now());
      return reply.code(201).send({ id: draft.id, subject: draft.terms.subject, typedData });
    },
  );

  app.post(
    "/consents/:id/signatures",
    {
      preHandler: signed,
      schema: {
        tags: ["consents"],
        summary: "The recorder's signature (and the subject's, if the terms name a subject key): grants the consent on chain",
        params: IdParam, body: z.strictObject({ signature: Signature, subjectSignature: Signature.optional() }),
        response: { ...relayAccepted, 200: z.object({ id: z.string(), granted: z.boolean(), tx: z.string(), block: z.number() }), ...authErrors },
      },
    },
    async (req) => {
      const d = await node.consents.grant(req.params.id, req.principal!.department, req.body.signature, req.body.subjectSignature);
      return { id: d.id, granted: true, ...d.grant! };
    },
  );

  app.post(
    "/consents/:id/revoke",
    {
      preHandler: signed,
      schema: {
        tags: ["consents"],
        summary: "Revoke (recorder): signature over Revocation(consentId)",
        params: IdParam, body: z.strictObject({ signature: Signature }),
        response: { ...relayAccepted, 200: z.object({ id: z.string(), revoked: z.boolean(), tx: z.string(), block: z.number() }), ...authErrors },
      },
    },
    async (req) => {
      const d = await node.consents.revoke(req.params.id, req.principal!.department, req.body.signature);
      return { id: d.id, revoked: true, tx: d.revocation!.tx, block: d.revocation!.block };
    },
  );

  app.post(
    "/consents/:id/revoke-by-subject",
    {
      schema: {
        tags: ["consents"],
        summary: "Revoke with the subject's own key: signature over Revocation(consentId); no department needed",
        params: IdParam, body: z.strictObject({ signature: Signature }),
        response: { ...relayAccepted, 200: z.object({ id: z.string(), revoked: z.boolean(), tx: z.string(), block: z.number() }), 400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req) => {
      const d = await node.consents.revoke(req.params.id, "subject", req.body.signature);
      return { id: d.id, revoked: true, tx: d.revocation!.tx, block: d.revocation!.block };
    },
  );

  const Done = (what: "revoked" | "cancelled") => z.object({ id: z.string(), [what]: z.boolean(), tx: z.string(), block: z.number() });

  app.post(
    "/consents/:id/revoke-by-regulator",
    {
      preHandler: signed,
      schema: {
        tags: ["consents"],
        summary: "Revoke (regulator): any department relays a regulator-role key's signature over RegulatorRevocation(consentId, reasonHash); for a consent whose recorder can no longer revoke it",
        params: IdParam,
        body: z
          .strictObject({ signature: Signature, reason: z.string().min(1).max(500).optional(), reasonHash: Bytes32.optional() })
          .refine((b) => !(b.reason !== undefined && b.reasonHash !== undefined), "give at most one of reason and reasonHash"),
        response: { ...relayAccepted, 200: Done("revoked"), ...authErrors },
      },
    },
    async (req) => {
      const { tx } = await node.consents.revokeByRegulator(req.params.id, reasonHashOf(req.body), req.body.signature);
      return { id: req.params.id, revoked: true, ...tx };
    },
  );

  app.post(
    "/consents/:id/cancel",
    {
      preHandler: signed,
      schema: {
        tags: ["consents"],
        summary: "Cancel a draft not yet granted (recorder): signature over ConsentCancellation(consentId); it can then never be granted",
        params: IdParam, body: z.strictObject({ signature: Signature }),
        response: { ...relayAccepted, 200: Done("cancelled"), ...authErrors },
      },
    },
    async (req) => {
      const d = await node.consents.cancel(req.params.id, req.principal!.department, req.body.signature);
      return { id: d.id, cancelled: true, tx: d.cancellation!.tx, block: d.cancellation!.block };
    },
  );

  app.post(
    "/consents/:id/cancel-by-subject",
    {
      schema: {
        tags: ["consents"],
        summary: "Cancel a draft not yet granted with the subject's own key: signature over ConsentCancellation(consentId); no department needed",
        params: IdParam, body: z.strictObject({ signature: Signature }),
        response: { ...relayAccepted, 200: Done("cancelled"), 400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req) => {
      const d = await node.consents.cancel(req.params.id, "subject", req.body.signature);
      return { id: d.id, cancelled: true, tx: d.cancellation!.tx, block: d.cancellation!.block };
    },
  );

  app.get(
    "/consents",
    {
      preHandler: signed,
      schema: {
        tags: ["consents"],
        summary: "Every consent recorded for a subject commitment, with its grant and revocation times",
        querystring: z.strictObject({ subject: Bytes32 }),
        response: { 200: z.object({ subject: z.string(), consents: z.array(Json) }), ...authErrors },
      },
    },
    async (req) => ({ subject: req.query.subject, consents: await node.indexer.consentsOf(req.query.subject) }),
  );

  app.get(
    "/consents/:id",
    {
      preHandler: signed,
      schema: {
        tags: ["consents"],
        summary: "A consent: terms (with the subject commitment), signatures, grant and revocation, and the typed data of its next actions (a regulator's revocation for `reason` or `reasonHash`, if given)",
        params: IdParam,
        querystring: z
          .strictObject({ reason: z.string().min(1).max(500).optional(), reasonHash: Bytes32.optional() })
          .refine((q) => !(q.reason !== undefined && q.reasonHash !== undefined), "give at most one of reason and reasonHash"),
        response: {
          200: z.object({
            id: z.string(), draft: Json, onChain: Json,
            typedData: z.object({ grant: TypedDataSchema, revocation: TypedDataSchema, cancellation: TypedDataSchema.optional(), regulatorRevocation: TypedDataSchema.optional() }),
          }),
          ...authErrors,
        },
      },
    },
    async (req) => {
      const { draft, onChain } = await node.consents.get(req.params.id);
      const typedData = {
        grant: node.consents.typedData(draft),
        revocation: node.consents.revocationTypedData(draft.id),
        // Until it is granted (or cancelled), the recorder or the subject may cancel it; once granted, a regulator may revoke it.
        ...(!onChain && !draft.grant && !draft.cancellation ? { cancellation: node.consents.cancellationTypedData(draft.id) } : {}),
        ...(onChain && onChain.revokedAt === 0 ? { regulatorRevocation: node.consents.regulatorRevocationTypedData(draft.id, reasonHashOf(req.query)) } : {}),
      };
      return { id: draft.id, draft, onChain, typedData };
    },
  );

  app.post(
    "/consents/check",
    {
      preHandler: signed,
      schema: {
        tags: ["consents"],
        summary: "Was a consent valid for this grantee, resource and purpose at time `at` (default now)?",
        body: z
          .strictObject({
            subjectId: SubjectId.optional(), subject: Bytes32.optional(), grantee: Bytes32, resource: Bytes32,
            purpose: PurposeText.optional(), purposeHash: Bytes32.optional(), at: UnixSeconds.optional(),
          })
          .refine((b) => (b.subjectId === undefined) !== (b.subject === undefined), "give exactly one of subjectId and subject")
          .refine((b) => (b.purpose === undefined) !== (b.purposeHash === undefined), "give exactly one of purpose and purposeHash"),
        response: { 200: z.object({ valid: z.boolean(), at: z.number(), consentId: z.string().optional() }), ...authErrors },
      },
    },
    async (req) => {
      const b = req.body;
      const at = b.at ?? ctx.now();
      const subject = b.subject ?? (await node.consents.commitmentOf(b.subjectId!));
      const consent = subject ? await node.consents.check(subject, b.grantee, b.resource, purposeHashOf(b)!, at) : undefined;
      return { valid: consent !== undefined, at, ...(consent ? { consentId: consent.id } : {}) };
    },
  );

  app.post(
    "/subjects/erase",
    {
      preHandler: signed,
      schema: {
        tags: ["consents"],
        summary: "Erase a subject (a department that recorded its consent, or the regulator): destroy its secret so its commitments can no longer be linked to it, refuse further use, keep the erasure as evidence",
        body: z.strictObject({ subjectId: SubjectId }),
        response: { 200: z.object({ commitment: z.string(), erasedAt: z.number(), requestedBy: z.string() }), ...authErrors },
      },
    },
    async (req) => {
      const regulator = await node.indexer.hasRole(ROLES.regulator, req.principal!.signer);
      return node.consents.erase(req.body.subjectId, req.principal!.department, ctx.now(), regulator);
    },
  );

  app.get(
    "/subjects/erasures/:commitment",
    {
      preHandler: signed,
      schema: {
        tags: ["consents"],
        summary: "The erasure evidence for a subject commitment",
        params: z.strictObject({ commitment: Bytes32 }),
        response: { 200: z.object({ commitment: z.string(), erasedAt: z.number(), requestedBy: z.string() }), ...authErrors },
      },
    },
    async (req) => {
      const e = await node.consents.erasure(req.params.commitment);
      if (!e) throw fail.notFound("erasure", req.params.commitment);
      return e;
    },
  );

  // Lifting an erasure is a regulator's explicit, recorded act: the record says who, when and why.
  const regulator = requireRole(ctx.auth, ROLES.regulator, "regulator");
  const ReEnrolment = z.object({ id: z.string(), reEnrolledAt: z.number(), requestedBy: z.string(), signer: z.string(), reason: z.string() });
  const ReEnrolmentId = z.string().regex(/^0x[0-9a-fA-F]{32}$/, "0x + 32 hex").transform((s) => s.toLowerCase());

  app.post(
    "/subjects/re-enrol",
    {
      preHandler: regulator,
      schema: {
        tags: ["consents"],
        summary: "Lift the erasure of an ID number (regulator): removes its tombstone and records who, when and why; its next consent gets a new commitment, unlinkable to the old one",
        body: z.strictObject({
          subjectId: SubjectId,
          reason: z.string().trim().min(1).max(500).describe("why the erased subject is taken back (kept on record; must not contain the ID number)"),
        }),
        response: { 200: ReEnrolment, ...authErrors },
      },
    },
    async (req) => {
      const p = req.principal!;
      const record = await node.consents.reEnrol(req.body.subjectId, { department: p.department, signer: p.signer }, req.body.reason, ctx.now());
      req.log.info({ reEnrolment: record.id, department: p.department, signer: p.signer }, "erased subject re-enrolled");
      return record;
    },
  );

  app.get(
    "/subjects/re-enrolments",
    {
      preHandler: regulator,
      schema: {
        tags: ["consents"],
        summary: "Every re-enrolment of an erased subject (regulator), oldest first",
        response: { 200: z.object({ reEnrolments: z.array(ReEnrolment) }), ...authErrors },
      },
    },
    async () => ({ reEnrolments: await node.consents.reEnrolments() }),
  );

  app.get(
    "/subjects/re-enrolments/:id",
    {
      preHandler: regulator,
      schema: {
        tags: ["consents"],
        summary: "One re-enrolment record (regulator)",
        params: z.strictObject({ id: ReEnrolmentId }),
        response: { 200: ReEnrolment, ...authErrors },
      },
    },
    async (req) => {
      const r = await node.consents.reEnrolment(req.params.id);
      if (!r) throw fail.notFound("re-enrolment", req.params.id);
      return r;
    },
  );
};
