/** Departments, their signer keys and the platform roles (registry contract, relayed by the node as governor). */
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { FastifyRequest } from "fastify";
import { z } from "zod";
import { codeId, DepartmentLevel, ROLES } from "../../node/chain/ids";
import { fail } from "../../node/errors";
import type { RouteContext } from "../app";
import { authenticate, requireRole, requireSigned } from "../auth/authenticate";
import { Address, authErrors, Bytes32, Code, IdParam, TypedDataSchema } from "../schemas";
import { relayAccepted } from "./relays";
import { SignerAction } from "../../node/chain/typed-data";

const Level = z.enum(["national", "city", "district", "town", "village"]);
const LEVEL_OF: Record<z.infer<typeof Level>, DepartmentLevel> = {
  national: DepartmentLevel.National, city: DepartmentLevel.City, district: DepartmentLevel.District, town: DepartmentLevel.Town, village: DepartmentLevel.Village,
};
const Tx = z.object({ tx: z.string(), block: z.number() });

/** Authenticates and requires a current signer of department `id`: its keys are its own, not the governor's. */
export async function requireOwnSigner(ctx: RouteContext, req: FastifyRequest, id: string): Promise<void> {
  const p = await authenticate(ctx.auth, req);
  if (p.department !== id) throw fail.forbidden("FORBIDDEN_ROLE", `only a signer of ${id} may ask to change its keys (the governor may only propose a delayed recovery)`);
}

const ACTION_OF = { add: SignerAction.Add, remove: SignerAction.Remove, threshold: SignerAction.SetThreshold } as const;

export const registryRoutes: FastifyPluginAsyncZod<{ ctx: RouteContext }> = async (app, { ctx }) => {
  const { node } = ctx;
  const governor = requireRole(ctx.auth, ROLES.governor, "governor");

  app.post(
    "/departments",
    {
      preHandler: governor,
      schema: {
        tags: ["registry"],
        summary: "Register a department (governor)",
        body: z.strictObject({ code: Code, level: Level, parent: Bytes32.optional(), signers: z.array(Address).min(1).max(16), threshold: z.number().int().min(1).max(16).optional() }),
        response: { ...relayAccepted, 201: z.object({ id: z.string(), tx: z.string(), block: z.number() }), ...authErrors },
      },
    },
    async (req, reply) => {
      const id = codeId(req.body.code);
      const tx = await node.governance.registerDepartment(id, LEVEL_OF[req.body.level], req.body.parent, req.body.signers, req.body.threshold);
      return reply.code(201).send({ id, ...tx });
    },
  );

  const DepartmentOut = z.object({ id: z.string(), level: Level, parent: z.string(), active: z.boolean(), signers: z.array(z.string()) });

  app.get(
    "/departments",
    {
      preHandler: requireSigned(ctx.auth),
      schema: {
        tags: ["registry"],
        summary: "Every registered department: level, parent, active flag and current signers",
        response: { 200: z.object({ departments: z.array(DepartmentOut) }), ...authErrors },
      },
    },
    async () => ({
      departments: (await node.indexer.departments()).map((d) => ({ id: d.id, level: Level.options[d.level], parent: d.parent, active: d.active, signers: d.signers })),
    }),
  );

  app.get(
    "/deployment",
    {
      schema: {
        tags: ["registry"],
        summary: "Public: the chain id and contract addresses this node serves (what signed requests bind), and its log",
        response: { 200: z.object({ chainId: z.string(), registry: z.string(), contracts: z.record(z.string(), z.string()), logId: z.string(), operatorDepartment: z.string().nullable() }) },
      },
    },
    async () => ({
      chainId: node.options.chainId.toString(),
      registry: node.options.addresses.registry.toLowerCase(),
      contracts: Object.fromEntries(Object.entries(node.options.addresses).map(([k, v]) => [k, String(v).toLowerCase()])),
      logId: node.logId,
      operatorDepartment: (await node.indexer.logOperator(node.logId)) ?? null,
    }),
  );

  app.get(
    "/whoami",
    {
      preHandler: requireSigned(ctx.auth),
      schema: {
        tags: ["registry"],
        summary: "Who signed this request: the department, the key, and the roles the key holds",
        response: { 200: z.object({ department: z.string(), signer: z.string(), roles: z.array(z.enum(["governor", "regulator", "exchange"])) }), ...authErrors },
      },
    },
    async (req) => {
      const { department, signer } = req.principal!;
      const roles: ("governor" | "regulator" | "exchange")[] = [];
      for (const role of ["governor", "regulator", "exchange"] as const) if (await node.indexer.hasRole(ROLES[role], signer)) roles.push(role);
      return { department, signer, roles };
    },
  );

  app.get(
    "/departments/:id",
    {
      preHandler: requireSigned(ctx.auth),
      schema: {
        tags: ["registry"],
        summary: "A department: level, parent, active flag and current signers",
        params: IdParam,
        response: { 200: DepartmentOut, ...authErrors },
      },
    },
    async (req) => {
      const d = await node.indexer.department(req.params.id);
      if (!d) throw fail.notFound("department", req.params.id);
      return { id: d.id, level: Level.options[d.level], parent: d.parent, active: d.active, signers: d.signers };
    },
  );

  app.post(
    "/departments/:id/active",
    {
      preHandler: governor,
      schema: { tags: ["registry"], summary: "Activate or deactivate a department (governor)", params: IdParam, body: z.strictObject({ active: z.boolean() }), response: { ...relayAccepted, 200: Tx, ...authErrors } },
    },
    async (req) => node.governance.setActive(req.params.id, req.body.active),
  );

  const SignatureHex = z.string().regex(/^0x[0-9a-fA-F]{130}$/, "a 65-byte signature, 0x-hex");
  app.post(
    "/departments/:id/signer-changes",
    {
      preHandler: async (req) => requireOwnSigner(ctx, req, (req.params as { id: string }).id.toLowerCase()),
      schema: {
        tags: ["registry"],
        summary:
          "Change the department's keys (a signer of it; never the governor): without `signatures`, the EIP-712 SignerChange to sign and how many distinct current signers must sign it (the threshold); with them, relayed",
        params: IdParam,
        body: z.strictObject({
          action: z.enum(["add", "remove", "threshold"]),
          signer: Address.optional(),
          threshold: z.number().int().min(1).max(16).optional(),
          nonce: z.number().int().min(0).max(2 ** 32 - 1).optional(),
          signatures: z.array(SignatureHex).min(1).max(16).optional(),
        }),
        response: { ...relayAccepted, 200: z.object({ change: z.any(), typedData: TypedDataSchema, needed: z.number() }), 201: Tx.extend({ change: z.any() }), ...authErrors },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const action = ACTION_OF[b.action];
      const { change, typedData, needed } = await node.governance.signerChange(req.params.id, action, b.signer, b.threshold);
      if (!b.signatures) return reply.code(200).send({ change, typedData, needed });
      const tx = await node.governance.applySignerChange({ ...change, nonce: b.nonce ?? change.nonce }, b.signatures);
      return reply.code(201).send({ ...tx, change });
    },
  );

  app.post(
    "/roles",
    {
      preHandler: governor,
      schema: {
        tags: ["registry"],
        summary: "Grant a platform role to a key (governor)",
        body: z.strictObject({ role: z.enum(["governor", "regulator", "exchange"]), account: Address }),
        response: { ...relayAccepted, 201: Tx, ...authErrors },
      },
    },
    async (req, reply) => reply.code(201).send(await node.governance.grantRole(req.body.role, req.body.account)),
  );
};
