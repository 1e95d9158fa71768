/**
 * Session keys (docs/api.md §1, "Session keys"): a department's signer certifies a short-lived
 * Ed25519 key with an EIP-712 `SessionKey` statement; the key then signs requests in its scope.
 * Registration, listing and revocation are signed with a department key, never with a session key.
 */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { isEd25519PublicKey, SESSION_MAX_LIFETIME_S, SESSION_SCOPES, sessionKeyTypedData, type SessionCertificate } from "../../node/verify";
import type { RouteContext } from "../app";
import { requireSigned } from "../auth/authenticate";
import type { SessionKeys, SessionRecord } from "../auth/session-keys";
import { sessionStatus } from "../auth/session-keys";
import { Errors } from "../errors";
import { Address, authErrors, Bytes32, Signature, TypedDataSchema, UnixSeconds } from "../schemas";

const PublicKey = Bytes32.refine(isEd25519PublicKey, "not an Ed25519 public key of prime order (canonical 32-byte encoding)").describe("Ed25519 public key, 0x + 64 hex");
const Scope = z.enum(Object.keys(SESSION_SCOPES) as [keyof typeof SESSION_SCOPES]).describe(
  `what the key may sign: ${Object.entries(SESSION_SCOPES).map(([s, what]) => `${s} (${what})`).join(", ")}`,
);

const Session = z.object({
  department: z.string(), publicKey: z.string(), notBefore: z.number(), notAfter: z.number(), scope: z.string(),
  certifier: z.string(), signature: z.string(), registeredAt: z.number(), registeredAtBlock: z.number(),
  status: z.enum(["active", "not-yet-valid", "expired", "revoked"]),
  revokedAt: z.number().optional(), revokedAtBlock: z.number().optional(), revokedBy: z.string().optional(),
  revocation: z.enum(["signer", "certifier-removed"]).optional(), reason: z.string().optional(),
});
const PublicKeyParam = z.strictObject({ publicKey: Bytes32 });

/** The session routes, over `sessions`. */
export const sessionRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext; sessions: SessionKeys }> = async (app, { ctx, sessions }) => {
  const { chainId, registry } = ctx.auth;
  const view = (r: SessionRecord) => ({ ...r, status: sessionStatus(r, ctx.now()) });

  app.post(
    "/sessions",
    {
      preHandler: requireSigned(ctx.auth),
      schema: {
        tags: ["sessions"],
        summary: `Certify an Ed25519 session key for this department (a signer of it): without \`signature\`, the EIP-712 SessionKey to sign; with \`certifier\` and \`signature\`, registered (valid at most ${SESSION_MAX_LIFETIME_S / 86400} days)`,
        body: z
          .strictObject({ publicKey: PublicKey, notBefore: UnixSeconds, notAfter: UnixSeconds, scope: Scope, certifier: Address.optional(), signature: Signature.optional() })
          .refine((b) => (b.certifier === undefined) === (b.signature === undefined), "give both certifier and signature, or neither"),
        response: { 200: z.object({ certificate: z.any(), typedData: TypedDataSchema }), 201: z.object({ session: Session }), ...authErrors },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const certificate: SessionCertificate = { department: req.principal!.department, publicKey: b.publicKey, notBefore: b.notBefore, notAfter: b.notAfter, scope: b.scope };
      if (b.signature === undefined) return reply.code(200).send({ certificate, typedData: sessionKeyTypedData(certificate, chainId, registry) });
      const session = await sessions.register(certificate, b.certifier!, b.signature, ctx.now());
      return reply.code(201).send({ session: view(session) });
    },
  );

  app.get(
    "/sessions",
    {
      preHandler: requireSigned(ctx.auth),
      schema: {
        tags: ["sessions"],
        summary: "This department's session keys, with their status (active, not-yet-valid, expired, revoked)",
        response: { 200: z.object({ sessions: z.array(Session) }), ...authErrors },
      },
    },
    async (req) => ({ sessions: await sessions.list(req.principal!.department, ctx.now()) }),
  );

  app.get(
    "/sessions/:publicKey",
    {
      preHandler: requireSigned(ctx.auth),
      schema: { tags: ["sessions"], summary: "One of this department's session keys", params: PublicKeyParam, response: { 200: z.object({ session: Session }), ...authErrors } },
    },
    async (req) => {
      const s = await sessions.get(req.principal!.department, req.params.publicKey, ctx.now());
      if (!s) throw new Errors.NOT_FOUND("session key", req.params.publicKey);
      return { session: view(s) };
    },
  );

  app.post(
    "/sessions/:publicKey/revoke",
    {
      preHandler: requireSigned(ctx.auth),
      schema: {
        tags: ["sessions"],
        summary: "Revoke one of this department's session keys (a signer of it); refused from this moment on",
        params: PublicKeyParam,
        body: z.strictObject({ reason: z.string().min(1).max(500).optional() }),
        response: { 200: z.object({ session: Session }), ...authErrors },
      },
    },
    async (req) => {
      const p = req.principal!;
      return { session: view(await sessions.revoke(p.department, req.params.publicKey, p.signer, ctx.now(), req.body.reason)) };
    },
  );
};
