/**
 * A small TypeScript client of the dcl API: signs every request with a department's key (scheme in
 * auth/request-signature.ts, documented in docs/api.md) — or, given a session key, signs the
 * requests in its scope with it (Ed25519) — signs EIP-712 typed data the API returns, and turns
 * error bodies into `ApiError { status, code }`. A `202 Accepted` (a relayed transaction not mined
 * within the server's DCL_RELAY_WAIT_MS) is followed to its end by polling GET /v1/relays/:id
 * (`waitForRelay`), unless the request asks for the 202 itself (`accept202`). Used by the tests and
 * the scripts.
 */
import { generateKeyPairSync, randomBytes, sign as ed25519Sign, type KeyObject } from "node:crypto";
import type { TypedDataDomain, TypedDataField, Wallet, HDNodeWallet } from "ethers";
import type { RelayView } from "../node/chain/outbox";
import { SESSION_SCOPES, type SessionScope } from "../node/verify";
import { AUTH_HEADERS, SESSION_KEY_HEADER, stringToSign } from "./auth/request-signature";

/** An error answer of the API. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
    this.name = "ApiError";
  }
}

/** A relayed transaction as GET /v1/relays/:id (and a 202 answer) shows it. */
export type ApiRelay = RelayView;

/** What a request answered 202 resolves with once its relay is mined (in place of the route's usual body). */
export interface RelayOutcome {
  relay: ApiRelay;
  tx: string;
  block: number;
}

/** Options of one request. */
export interface RequestOptions {
  timestamp?: number;
  nonce?: string;
  session?: boolean;
  /** Resolve with the 202 body `{ relay }` instead of following it to its end. */
  accept202?: boolean;
  /** How long to follow a 202 before giving up (ms, default 10 minutes). */
  relayTimeoutMs?: number;
}

/**
 * Polls GET /v1/relays/:id on `baseUrl` until relay `id` is mined (resolves with it) or failed (rejects
 * with ApiError 409 CHAIN_REJECTED naming the contract's error), every `pollMs` (growing to 2 s), for at most
 * `timeoutMs` (rejects with ApiError 504 RELAY_WAIT_TIMEOUT, a client-side code: the relay goes on).
 */
export async function waitForRelay(baseUrl: string, id: string, opts: { timeoutMs?: number; pollMs?: number } = {}): Promise<ApiRelay> {
  const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
  let pause = opts.pollMs ?? 200;
  for (;;) {
    const res = await fetch(`${baseUrl}/v1/relays/${id}`).catch(() => undefined); // the server restarting: poll on
    if (res) {
      const json = await res.json().catch(() => undefined);
      if (res.status === 404 || (res.status >= 400 && res.status < 500)) throw new ApiError(res.status, json?.error?.code ?? "UNKNOWN", json?.error?.message ?? "");
      const relay = json?.relay as ApiRelay | undefined;
      if (relay?.state === "mined") return relay;
      if (relay?.state === "failed") throw new ApiError(409, "CHAIN_REJECTED", `the chain refused the transaction (relay ${id}): ${relay.error?.message ?? relay.error?.code ?? "reverted"}`);
    }
    if (Date.now() >= deadline) throw new ApiError(504, "RELAY_WAIT_TIMEOUT", `relay ${id} was not mined within ${opts.timeoutMs ?? 600_000} ms; it goes on: GET /v1/relays/${id}`);
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(2000, pause * 2);
  }
}

/** EIP-712 typed data as the API returns it. */
export interface ApiTypedData {
  domain: Record<string, unknown>;
  types: Record<string, { name: string; type: string }[]>;
  primaryType: string;
  message: Record<string, unknown>;
}

/** Where the API is and what it is bound to (both come from GET /v1/log/checkpoint's origin and the deployment). */
export interface ClientOptions {
  baseUrl: string;
  chainId: bigint;
  registry: string;
}

/** An Ed25519 session key a signer of the department certified (POST /v1/sessions). */
export interface SessionKey {
  /** 0x + 64 hex: the raw public key. */
  publicKey: string;
  privateKey: KeyObject;
  scope: SessionScope;
}

/** The raw 32-byte public key of an Ed25519 key object, 0x-hex. */
function rawPublicKey(key: KeyObject): string {
  return "0x" + Buffer.from(key.export({ format: "jwk" }).x!, "base64url").toString("hex");
}

/** A new Ed25519 session key pair for `scope` (not yet certified). */
export function newSessionKey(scope: SessionScope = "access:write"): SessionKey {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  return { publicKey: rawPublicKey(publicKey), privateKey, scope };
}

/**
 * A client acting as one department with one of its signer keys, and optionally a session key that
 * signs the requests in its scope (a client made with `null` for the signer key holds only the
 * session key, as a gateway should: it can then send only those requests).
 */
export class DclClient {
  constructor(
    readonly options: ClientOptions,
    readonly department: string,
    private readonly signerKey: Wallet | HDNodeWallet | null,
    readonly session?: SessionKey,
  ) {}

  /** The department signer key. */
  get key(): Wallet | HDNodeWallet {
    if (!this.signerKey) throw new Error("this client holds only a session key");
    return this.signerKey;
  }

  /** The same client acting with another key (e.g. after a rotation) or for another department. */
  as(department: string, key: Wallet | HDNodeWallet): DclClient {
    return new DclClient(this.options, department, key);
  }

  /** The same client signing the requests in `session`'s scope with it. */
  withSession(session: SessionKey): DclClient {
    return new DclClient(this.options, this.department, this.signerKey, session);
  }

  /**
   * Certifies a new Ed25519 session key with this client's signer key (POST /v1/sessions: the EIP-712
   * SessionKey, signed, then registered) and returns this client using it. Valid from `notBefore`
   * (now by default) for `lifetimeSeconds` (one day by default, at most seven).
   */
  async startSession(opts: { scope?: SessionScope; notBefore?: number; lifetimeSeconds?: number; key?: SessionKey } = {}): Promise<DclClient> {
    const session = opts.key ?? newSessionKey(opts.scope);
    const notBefore = opts.notBefore ?? Math.floor(Date.now() / 1000);
    const body = { publicKey: session.publicKey, notBefore, notAfter: notBefore + (opts.lifetimeSeconds ?? 86_400), scope: session.scope };
    const { typedData } = await this.post<{ typedData: ApiTypedData }>("/v1/sessions", body);
    await this.post("/v1/sessions", { ...body, certifier: this.key.address, signature: await this.signTypedData(typedData) });
    return this.withSession(session);
  }

  /** Revokes session key `publicKey` of this department (signed with the department key). */
  revokeSession(publicKey: string, reason?: string): Promise<{ session: { status: string } }> {
    return this.post(`/v1/sessions/${publicKey}/revoke`, reason ? { reason } : {});
  }

  /** True when this client's session key may sign `method` `pathAndQuery`. */
  private sessionSigns(method: string, pathAndQuery: string): boolean {
    return this.session !== undefined && SESSION_SCOPES[this.session.scope] === `${method.toUpperCase()} ${pathAndQuery.split("?")[0]}`;
  }

  /**
   * Sends a signed request; resolves with the JSON body, rejects with ApiError. A 202 (a relay not mined within
   * the server's wait) is followed until the relay is mined, and then resolves with `{ relay, tx, block }`
   * (RelayOutcome) — the route's usual body is not re-fetched: a re-post would meet the state the relay made —
   * or rejects with 409 CHAIN_REJECTED when the chain refused it; `accept202` resolves with the 202 body instead.
   */
  async request<T = unknown>(method: string, pathAndQuery: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, pathAndQuery, body, opts);
    const text = await res.text();
    const json = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw new ApiError(res.status, json?.error?.code ?? "UNKNOWN", json?.error?.message ?? text);
    if (res.status === 202 && json?.relay?.id && !opts.accept202) {
      const relay = await waitForRelay(this.options.baseUrl, json.relay.id, { timeoutMs: opts.relayTimeoutMs });
      return { relay, tx: relay.tx!, block: relay.block! } satisfies RelayOutcome as T;
    }
    return json as T;
  }

  /** Follows relay `id` (from a 202 answer) until it is mined; see `waitForRelay`. */
  waitForRelay(id: string, opts: { timeoutMs?: number; pollMs?: number } = {}): Promise<ApiRelay> {
    return waitForRelay(this.options.baseUrl, id, opts);
  }

  /** Sends a signed request and returns the raw response (for tests of failures). */
  async send(method: string, pathAndQuery: string, body?: unknown, opts: RequestOptions = {}): Promise<Response> {
    const bytes = body === undefined ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(body));
    const headers = await this.signHeaders(method, pathAndQuery, bytes, opts);
    if (body !== undefined) headers["content-type"] = "application/json";
    return fetch(this.options.baseUrl + pathAndQuery, { method, headers, body: body === undefined ? undefined : bytes });
  }

  /** The five auth headers for a request: signed with the session key when the request is in its scope, else with the signer key. */
  async signHeaders(method: string, pathAndQuery: string, body: Uint8Array, opts: { timestamp?: number; nonce?: string; session?: boolean } = {}): Promise<Record<string, string>> {
    const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
    const nonce = opts.nonce ?? randomBytes(16).toString("hex");
    const session = opts.session ?? this.sessionSigns(method, pathAndQuery);
    const signer = session ? this.session!.publicKey : this.key.address;
    const text = stringToSign({
      chainId: this.options.chainId, registry: this.options.registry, method, pathAndQuery, body,
      department: this.department, signer, timestamp, nonce,
    });
    if (session) {
      return {
        [AUTH_HEADERS.department]: this.department,
        [SESSION_KEY_HEADER]: this.session!.publicKey,
        [AUTH_HEADERS.timestamp]: String(timestamp),
        [AUTH_HEADERS.nonce]: nonce,
        [AUTH_HEADERS.signature]: "0x" + ed25519Sign(null, Buffer.from(text, "utf8"), this.session!.privateKey).toString("hex"),
      };
    }
    return {
      [AUTH_HEADERS.department]: this.department,
      [AUTH_HEADERS.signer]: this.key.address,
      [AUTH_HEADERS.timestamp]: String(timestamp),
      [AUTH_HEADERS.nonce]: nonce,
      [AUTH_HEADERS.signature]: await this.key.signMessage(text),
    };
  }

  /** Signs typed data returned by the API with this client's key. */
  signTypedData(td: ApiTypedData): Promise<string> {
    return this.key.signTypedData(td.domain as TypedDataDomain, td.types as Record<string, TypedDataField[]>, td.message);
  }

  get<T = unknown>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  /**
   * Changes this department's keys (`add` or `remove` a `signer`, or set the `threshold`): asks the API
   * for the EIP-712 SignerChange, has `cosigners` sign it (this client alone by default; as many
   * distinct current keys as the department's threshold), and has the node relay it.
   */
  async changeKeys(body: { action: "add" | "remove" | "threshold"; signer?: string; threshold?: number }, cosigners: DclClient[] = [this]): Promise<{ tx: string; block: number }> {
    const path = `/v1/departments/${this.department}/signer-changes`;
    const { change, typedData } = await this.post<{ change: { nonce: number }; typedData: ApiTypedData }>(path, body);
    const signatures = await Promise.all(cosigners.map((c) => c.signTypedData(typedData)));
    return this.post(path, { ...body, nonce: change.nonce, signatures });
  }

  post<T = unknown>(path: string, body: unknown, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>("POST", path, body, opts);
  }
}

/** An unsigned request (public routes). */
export async function publicGet<T = unknown>(baseUrl: string, path: string): Promise<T> {
  const res = await fetch(baseUrl + path);
  const json = await res.json();
  if (!res.ok) throw new ApiError(res.status, json?.error?.code ?? "UNKNOWN", json?.error?.message ?? "");
  return json as T;
}
