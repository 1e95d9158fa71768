/** Assertion shared by the API tests: a request refused with a given status and error code. */
import { expect } from "chai";
import { ApiError } from "../../api/client";

/** Awaits `p` and expects it to fail with an ApiError of `status` and `code`. */
export async function refused(p: Promise<unknown>, status: number, code: string): Promise<ApiError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${status} ${code}`).to.be.instanceOf(ApiError);
  const e = caught as ApiError;
  expect([e.status, e.code], e.message).to.deep.equal([status, code]);
  return e;
}
