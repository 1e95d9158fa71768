/**
 * Checks signed requests (scheme in request-signature.ts): well-formed headers, a fresh timestamp,
 * a signature by the named key over this exact request, a key that is a current signer of the named
 * department (as the indexed registry says now), and a nonce never used before. Each failure has its
 * own code. Roles (governor, regulator, exchange) are the registry's, held by the signing key.
 * A request may instead be signed with a session key (x-dcl-session-key, Ed25519, checked with
 * node:crypto by session-keys.ts), for the routes that name the scope its certificate grants.
 */
import { createHash } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { fromHex, type SessionScope } from "../../node/verify";
import type { Indexer } from "../../node/indexer/indexer";
import { Errors } from "../errors";
import type { DepartmentLimiter } from "./department-limiter";
import type { NonceStore } from "./nonce-store";
import { AUTH_HEADERS, SESSION_KEY_HEADER, stringToSign } from "./request-signature";
import type { SessionKeys } from "./session-keys";
import { signatureChecks, type SignatureChecks } from "./signature-checks";

/** Who made a signed request. */
export interface Principal {
  department: string;
  /** The signer key's address; for a session-signed request, the session key (0x + 64 hex). */
  signer: string;
  /** For a session-signed request: the department signer that certified the session key. */
  certifier?: string;
}

/** What a route accepts besides department keys. */
export interface SignedRouteOptions {
  /** The session-key scope that may sign this route; none: session keys are refused (SESSION_SCOPE). */
  sessionScope?: SessionScope;
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
  /** The registered session keys; without them a session-signed request is refused as unknown. */
  sessions?: SessionKeys;
  /** Where signatures are checked (the process's worker thread when not given: signature-checks.ts). */
  signatures?: SignatureChecks;
}

const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const NONCE = /^[0-9a-fA-F]{16,64}$/;
const TIMESTAMP = /^[0-9]{1,12}$/;
const SIGNATURE = /^0x[0-9a-fA-F]{130}$/;
const ED25519_SIGNATURE = /^0x[0-9a-fA-F]{128}$/;
const NO_BODY = new Uint8Array();
const UTF8 = new TextEncoder();

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Authenticates `req`; sets `req.principal` or throws a 401/403 error. */
export async function authenticate(ctx: AuthContext, req: FastifyRequest, route: SignedRouteOptions = {}): Promise<Principal> {
  const session = header(req, SESSION_KEY_HEADER);
  const h = {
    department: header(req, AUTH_HEADERS.department),
    signer: session ?? header(req, AUTH_HEADERS.signer),
    timestamp: header(req, AUTH_HEADERS.timestamp),
    nonce: header(req, AUTH_HEADERS.nonce),
    signature: header(req, AUTH_HEADERS.signature),
  };
  if (!h.department || !h.signer || !h.timestamp || !h.nonce || !h.signature) {
    const names = session === undefined ? AUTH_HEADERS : { ...AUTH_HEADERS, signer: SESSION_KEY_HEADER };
    throw new Errors.AUTH_MISSING(Object.entries(names).filter(([k]) => !h[k as keyof typeof h]).map(([, name]) => name).join(", "));
  }
  if (!BYTES32.test(h.department!)) throw new Errors.AUTH_MALFORMED(`${AUTH_HEADERS.department} must be 0x + 64 hex`);
  if (session === undefined) {
    if (!ADDRESS.test(h.signer!)) throw new Errors.AUTH_MALFORMED(`${AUTH_HEADERS.signer} must be 0x + 40 hex`);
  } else {
    if (header(req, AUTH_HEADERS.signer) !== undefined) throw new Errors.AUTH_MALFORMED(`give ${AUTH_HEADERS.signer} or ${SESSION_KEY_HEADER}, not both`);
    if (!BYTES32.test(session)) throw new Errors.AUTH_MALFORMED(`${SESSION_KEY_HEADER} must be 0x + 64 hex`);
  }
  if (!TIMESTAMP.test(h.timestamp!)) throw new Errors.AUTH_MALFORMED(`${AUTH_HEADERS.timestamp} must be unix seconds`);
  if (!NONCE.test(h.nonce!)) throw new Errors.AUTH_MALFORMED(`${AUTH_HEADERS.nonce} must be 16-64 hex characters`);
  if (session === undefined ? !SIGNATURE.test(h.signature!) : !ED25519_SIGNATURE.test(h.signature!)) {
    throw new Errors.AUTH_MALFORMED(`${AUTH_HEADERS.signature} must be 0x + ${session === undefined ? 130 : 128} hex`);
  }

  const timestamp = Number(h.timestamp);
  if (Math.abs(ctx.now() - timestamp) > ctx.maxSkewSeconds) throw new Errors.AUTH_STALE_TIMESTAMP(timestamp, ctx.maxSkewSeconds);

  const department = h.department!.toLowerCase();
  const body = req.rawBody ?? NO_BODY;
  const signed = UTF8.encode(stringToSign({
    chainId: ctx.chainId,
    registry: ctx.registry,
    method: req.method,
    pathAndQuery: req.url,
    body,
    bodyDigest: "0x" + createHash("sha256").update(body).digest("hex"),
    department,
    signer: h.signer!,
    timestamp,
    nonce: h.nonce!,
  }));
  if (session !== undefined) {
    if (!ctx.sessions) throw new Errors.SESSION_UNKNOWN(session.toLowerCase(), department);
    const routeName = `${req.method} ${req.routeOptions?.url ?? req.url.split("?")[0]}`;
    const s = await ctx.sessions.check(department, session, signed, fromHex(h.signature!), ctx.now(), route.sessionScope, routeName, (ctx.signatures ??= signatureChecks()));
    return admit(ctx, req, department, h.nonce!, timestamp, { department, signer: s.publicKey, certifier: s.certifier });
  }
  // On the second core; against the signer's public key when met before (a third of a recovery's cost): signature-jobs.ts.
  const signatures = (ctx.signatures ??= signatureChecks());
  if (!(await signatures.check({ kind: "eip191", signer: h.signer!, message: signed, signature: fromHex(h.signature!) }))) throw new Errors.AUTH_BAD_SIGNATURE(h.signer!);
  const recovered = h.signer!.toLowerCase();

  const dept = await ctx.indexer.department(department);
  if (!dept) throw new Errors.AUTH_UNKNOWN_DEPARTMENT(department);
  if (!dept.active) throw new Errors.AUTH_DEPARTMENT_INACTIVE(department);
  if (!(await ctx.indexer.isSigner(department, recovered))) {
    if ((await ctx.indexer.wasSigner(department, recovered))) throw new Errors.AUTH_KEY_REVOKED(recovered, department);
    throw new Errors.AUTH_NOT_DEPARTMENT_SIGNER(recovered, department);
  }
  return admit(ctx, req, department, h.nonce!, timestamp, { department, signer: recovered.toLowerCase() });
}

/** The last steps of every signed request: its nonce claimed, the department's budget charged. */
function admit(ctx: AuthContext, req: FastifyRequest, department: string, nonce: string, timestamp: number, principal: Principal): Principal {
  // Claimed last, so that requests failing any check above cannot burn a department's nonces.
  if (!ctx.nonces.claim(department, nonce.toLowerCase(), timestamp)) throw new Errors.AUTH_NONCE_REUSED(nonce);
  const wait = ctx.limiter?.take(department) ?? 0;
  if (wait > 0) throw new Errors.RATE_LIMITED(ctx.limiter!.perMinute, `${wait} s`);
  req.principal = principal;
  return principal;
}

/** A preHandler that authenticates the request (with a department key, or a session key certified for `route.sessionScope`). */
export function requireSigned(ctx: AuthContext, route: SignedRouteOptions = {}) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    await authenticate(ctx, req, route);
  };
}

/** A preHandler that authenticates the request and requires the signer key to hold `role` (a registry role hash). */
export function requireRole(ctx: AuthContext, role: string, roleName: string) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const p = await authenticate(ctx, req);
    if (!(await ctx.indexer.hasRole(role, p.signer))) throw new Errors.FORBIDDEN_ROLE(roleName);
  };
}
