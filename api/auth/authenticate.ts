/**
 * Checks signed requests (scheme in request-signature.ts): well-formed headers, a fresh timestamp,
 * a signature by the named key over this exact request, a key that is a current signer of the named
 * department (as the indexed registry says now), and a nonce never used before. Each failure has its
 * own code. Roles (governor, regulator, exchange) are the registry's, held by the signing key.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { fromHex, personalMessageHash, recoverAddress } from "../../node/verify";
import type { Indexer } from "../../node/indexer/indexer";
import { Errors } from "../errors";
import type { DepartmentLimiter } from "./department-limiter";
import type { NonceStore } from "./nonce-store";
import { AUTH_HEADERS, stringToSign } from "./request-signature";

/** Who made a signed request. */
export interface Principal {
  department: string;
  signer: string;
}

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
    rawBody?: Buffer;
  }
}

/** What the check needs. */
export interface AuthContext {
  indexer: Indexer;
  chainId: bigint;
  registry: string;
  nonces: NonceStore;
  maxSkewSeconds: number;
  now: () => number;
  /** Per-department request budget, charged once the request is known to come from the department. */
  limiter?: DepartmentLimiter;
}

const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const NONCE = /^[0-9a-fA-F]{16,64}$/;
const TIMESTAMP = /^[0-9]{1,12}$/;
const SIGNATURE = /^0x[0-9a-fA-F]{130}$/;

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Authenticates `req`; sets `req.principal` or throws a 401/403 error. */
export async function authenticate(ctx: AuthContext, req: FastifyRequest): Promise<Principal> {
  const h = Object.fromEntries(Object.entries(AUTH_HEADERS).map(([k, name]) => [k, header(req, name)])) as Record<keyof typeof AUTH_HEADERS, string | undefined>;
  const missing = Object.entries(AUTH_HEADERS).filter(([k]) => !h[k as keyof typeof h]).map(([, name]) => name);
  if (missing.length) throw new Errors.AUTH_MISSING(missing.join(", "));
  if (!BYTES32.test(h.department!)) throw new Errors.AUTH_MALFORMED(`${AUTH_HEADERS.department} must be 0x + 64 hex`);
  if (!ADDRESS.test(h.signer!)) throw new Errors.AUTH_MALFORMED(`${AUTH_HEADERS.signer} must be 0x + 40 hex`);
  if (!TIMESTAMP.test(h.timestamp!)) throw new Errors.AUTH_MALFORMED(`${AUTH_HEADERS.timestamp} must be unix seconds`);
  if (!NONCE.test(h.nonce!)) throw new Errors.AUTH_MALFORMED(`${AUTH_HEADERS.nonce} must be 16-64 hex characters`);
  if (!SIGNATURE.test(h.signature!)) throw new Errors.AUTH_MALFORMED(`${AUTH_HEADERS.signature} must be 0x + 130 hex`);

  const timestamp = Number(h.timestamp);
  if (Math.abs(ctx.now() - timestamp) > ctx.maxSkewSeconds) throw new Errors.AUTH_STALE_TIMESTAMP(timestamp, ctx.maxSkewSeconds);

  const department = h.department!.toLowerCase();
  const signed = stringToSign({
    chainId: ctx.chainId,
    registry: ctx.registry,
    method: req.method,
    pathAndQuery: req.url,
    body: req.rawBody ?? new Uint8Array(),
    department,
    signer: h.signer!,
    timestamp,
    nonce: h.nonce!,
  });
  const recovered = recoverAddress(personalMessageHash(new TextEncoder().encode(signed)), fromHex(h.signature!));
  if (!recovered || recovered.toLowerCase() !== h.signer!.toLowerCase()) throw new Errors.AUTH_BAD_SIGNATURE(h.signer!);

  const dept = await ctx.indexer.department(department);
  if (!dept) throw new Errors.AUTH_UNKNOWN_DEPARTMENT(department);
  if (!dept.active) throw new Errors.AUTH_DEPARTMENT_INACTIVE(department);
  if (!(await ctx.indexer.isSigner(department, recovered))) {
    if ((await ctx.indexer.wasSigner(department, recovered))) throw new Errors.AUTH_KEY_REVOKED(recovered, department);
    throw new Errors.AUTH_NOT_DEPARTMENT_SIGNER(recovered, department);
  }
  // Claimed last, so that requests failing any check above cannot burn a department's nonces.
  if (!ctx.nonces.claim(department, h.nonce!.toLowerCase(), timestamp)) throw new Errors.AUTH_NONCE_REUSED(h.nonce!);
  const wait = ctx.limiter?.take(department) ?? 0;
  if (wait > 0) throw new Errors.RATE_LIMITED(ctx.limiter!.perMinute, `${wait} s`);
  const principal = { department, signer: recovered.toLowerCase() };
  req.principal = principal;
  return principal;
}

/** A preHandler that authenticates the request. */
export function requireSigned(ctx: AuthContext) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    await authenticate(ctx, req);
  };
}

/** A preHandler that authenticates the request and requires the signer key to hold `role` (a registry role hash). */
export function requireRole(ctx: AuthContext, role: string, roleName: string) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const p = await authenticate(ctx, req);
    if (!(await ctx.indexer.hasRole(role, p.signer))) throw new Errors.FORBIDDEN_ROLE(roleName);
  };
}
