/**
 * Talks to the dcl API of the server that served the console (same origin). Department requests are
 * signed here, in the page, with the documented scheme (docs/api.md §1): the string is built by the
 * same code the server checks it with (api/auth/request-signature.ts) and signed with EIP-191 by the
 * key decrypted in this page. Failures become ApiError with the API's stable code.
 */
import { AUTH_HEADERS, stringToSign } from "../../auth/request-signature";

/** An answer of the API that is not a success, or no answer at all (`status` 0, code `NETWORK`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** What a request is signed with: a department and a key that can sign messages. */
export interface SigningIdentity {
  department: string;
  address: string;
  signMessage(message: string): Promise<string>;
}

/** The chain and contracts this server serves (public): what every signature binds. */
export interface Deployment {
  chainId: string;
  registry: string;
  contracts: Record<string, string>;
  logId: string;
  operatorDepartment: string | null;
}

async function answer<T>(res: Response): Promise<T> {
  const text = await res.text();
  let json: { error?: { code?: string; message?: string } } | undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) throw new ApiError(res.status, json?.error?.code ?? `HTTP_${res.status}`, json?.error?.message ?? text.slice(0, 200));
  const relay = (json as { relay?: { id?: string } } | undefined)?.relay;
  if (res.status === 202 && relay?.id) return (await followRelay(relay.id)) as T;
  return json as T;
}

/**
 * A 202 Accepted: the node recorded the transaction but the chain did not mine it within its wait. Polls
 * GET /v1/relays/:id (public) until it is mined — resolves with `{ relay, status: "mined", tx, block }` —
 * or failed (rejects with CHAIN_REJECTED and the contract's error), for at most ten minutes.
 */
async function followRelay(id: string): Promise<unknown> {
  const deadline = Date.now() + 600_000;
  for (let pause = 500; ; pause = Math.min(3000, pause * 2)) {
    const r = await publicGet<{ relay: { state: string; tx?: string; block?: number; error?: { code: string; message: string } } }>(`/v1/relays/${id}`).catch(() => undefined);
    if (r?.relay.state === "mined") return { relay: r.relay, status: "mined", tx: r.relay.tx, block: r.relay.block };
    if (r?.relay.state === "failed") throw new ApiError(409, "CHAIN_REJECTED", r.relay.error?.message ?? "the chain refused the transaction");
    if (Date.now() > deadline) throw new ApiError(202, "RELAY_PENDING", `the transaction is still on its way: /v1/relays/${id}`);
    await new Promise((done) => setTimeout(done, pause));
  }
}

async function send(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    throw new ApiError(0, "NETWORK", (err as Error).message);
  }
}

/** An unsigned request to a public route. */
export async function publicGet<T>(pathAndQuery: string): Promise<T> {
  return answer<T>(await send(pathAndQuery, { headers: { accept: "application/json" } }));
}

let deploymentPromise: Promise<Deployment> | undefined;
/** The server's deployment, read once. */
export function deployment(): Promise<Deployment> {
  deploymentPromise ??= publicGet<Deployment>("/v1/deployment").catch((err) => {
    deploymentPromise = undefined;
    throw err;
  });
  return deploymentPromise;
}

function randomNonce(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The five signed-request headers for one request. */
export async function signHeaders(who: SigningIdentity, method: string, pathAndQuery: string, body: Uint8Array): Promise<Record<string, string>> {
  const d = await deployment();
  const timestamp = Math.floor(Date.now() / 1000);
  const nonce = randomNonce();
  const text = stringToSign({
    chainId: BigInt(d.chainId), registry: d.registry, method, pathAndQuery, body,
    department: who.department, signer: who.address, timestamp, nonce,
  });
  return {
    [AUTH_HEADERS.department]: who.department,
    [AUTH_HEADERS.signer]: who.address,
    [AUTH_HEADERS.timestamp]: String(timestamp),
    [AUTH_HEADERS.nonce]: nonce,
    [AUTH_HEADERS.signature]: await who.signMessage(text),
  };
}

/** A request signed by `who`; resolves with the JSON answer. */
export async function signedRequest<T>(who: SigningIdentity, method: string, pathAndQuery: string, body?: unknown): Promise<T> {
  const bytes = body === undefined ? new Uint8Array() : new TextEncoder().encode(JSON.stringify(body));
  const headers = await signHeaders(who, method, pathAndQuery, bytes);
  headers.accept = "application/json";
  if (body !== undefined) headers["content-type"] = "application/json";
  return answer<T>(await send(pathAndQuery, { method, headers, body: body === undefined ? undefined : bytes }));
}

/** A signed request whose answer is read as a stream of server-sent events (a live feed). */
export async function signedEventStream(who: SigningIdentity, pathAndQuery: string, onEvent: (event: string, data: string) => void, signal: AbortSignal): Promise<void> {
  const headers = await signHeaders(who, "GET", pathAndQuery, new Uint8Array());
  headers.accept = "text/event-stream";
  const res = await send(pathAndQuery, { headers, signal });
  if (!res.ok || !res.body) await answer(res);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (data.length) onEvent(event, data.join("\n"));
    }
  }
}
