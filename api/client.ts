/**
 * A small TypeScript client of the dcl API: signs every request with a department's key (scheme in
 * auth/request-signature.ts, documented in docs/api.md), signs EIP-712 typed data the API returns,
 * and turns error bodies into `ApiError { status, code }`. Used by the tests and the scripts.
 */
import { randomBytes } from "node:crypto";
import type { TypedDataDomain, TypedDataField, Wallet, HDNodeWallet } from "ethers";
import { AUTH_HEADERS, stringToSign } from "./auth/request-signature";

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

/** A client acting as one department with one of its signer keys. */
export class DclClient {
  constructor(
    readonly options: ClientOptions,
    readonly department: string,
    readonly key: Wallet | HDNodeWallet,
  ) {}

  /** The same client acting with another key (e.g. after a rotation) or for another department. */
  as(department: string, key: Wallet | HDNodeWallet): DclClient {
    return new DclClient(this.options, department, key);
  }

  /** Sends a signed request; resolves with the JSON body, rejects with ApiError. */
  async request<T = unknown>(method: string, pathAndQuery: string, body?: unknown, opts: { timestamp?: number; nonce?: string } = {}): Promise<T> {
    const res = await this.send(method, pathAndQuery, body, opts);
    const text = await res.text();
    const json = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw new ApiError(res.status, json?.error?.code ?? "UNKNOWN", json?.error?.message ?? text);
    return json as T;
  }

  /** Sends a signed request and returns the raw response (for tests of failures). */
  async send(method: string, pathAndQuery: string, body?: unknown, opts: { timestamp?: number; nonce?: string } = {}): Promise<Response> {
    const bytes = body === undefined ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(body));
    const headers = await this.signHeaders(method, pathAndQuery, bytes, opts);
    if (body !== undefined) headers["content-type"] = "application/json";
    return fetch(this.options.baseUrl + pathAndQuery, { method, headers, body: body === undefined ? undefined : bytes });
  }

  /** The five auth headers for a request. */
  async signHeaders(method: string, pathAndQuery: string, body: Uint8Array, opts: { timestamp?: number; nonce?: string } = {}): Promise<Record<string, string>> {
    const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
    const nonce = opts.nonce ?? randomBytes(16).toString("hex");
    const text = stringToSign({
      chainId: this.options.chainId, registry: this.options.registry, method, pathAndQuery, body,
      department: this.department, signer: this.key.address, timestamp, nonce,
    });
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

  post<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.request<T>("POST", path, body);
  }
}

/** An unsigned request (public routes). */
export async function publicGet<T = unknown>(baseUrl: string, path: string): Promise<T> {
  const res = await fetch(baseUrl + path);
  const json = await res.json();
  if (!res.ok) throw new ApiError(res.status, json?.error?.code ?? "UNKNOWN", json?.error?.message ?? "");
  return json as T;
}
