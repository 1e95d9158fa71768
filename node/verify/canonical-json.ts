import { VerificationError } from "./errors";

/*
 * RFC 8785 JSON Canonicalization Scheme (JCS): https://www.rfc-editor.org/rfc/rfc8785
 *   - object members sorted by their names as arrays of UTF-16 code units (JS's default string order),
 *   - strings and numbers serialised exactly as ECMAScript's JSON.stringify does (§3.2.2.2, §3.2.2.3),
 *   - no whitespace.
 * Values JSON cannot carry (NaN, ±Infinity, bigint, undefined in an array, functions, symbols,
 * strings with lone surrogates, objects other than plain objects and arrays) are refused, never
 * silently turned into something else. Object members whose value is `undefined` are left out, as
 * JSON.stringify leaves them out, so a value and its JSON round trip canonicalise alike.
 */

const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function refuse(path: string, why: string): VerificationError {
  return new VerificationError("JSON_NOT_CANONICALIZABLE", `${path || "value"} ${why}`, { path });
}

function serialise(value: unknown, path: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw refuse(path, `is ${value}, which JSON cannot represent`);
      return JSON.stringify(value); // ECMAScript Number::toString, as RFC 8785 §3.2.2.3 requires ("-0" becomes "0").
    case "string":
      if (LONE_SURROGATE_RE.test(value)) throw refuse(path, "holds a lone UTF-16 surrogate");
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) {
        return "[" + value.map((v, i) => {
          if (v === undefined) throw refuse(`${path}[${i}]`, "is undefined");
          return serialise(v, `${path}[${i}]`);
        }).join(",") + "]";
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) throw refuse(path, "is not a plain object");
      const record = value as Record<string, unknown>;
      const members: string[] = [];
      for (const key of Object.keys(record).sort()) {
        if (record[key] === undefined) continue;
        if (LONE_SURROGATE_RE.test(key)) throw refuse(path, `has a member name with a lone UTF-16 surrogate`);
        members.push(JSON.stringify(key) + ":" + serialise(record[key], `${path}.${key}`));
      }
      return "{" + members.join(",") + "}";
    }
    default:
      throw refuse(path, `is a ${typeof value}, which JSON cannot represent`);
  }
}

/** The RFC 8785 (JCS) canonical JSON text of `value`; throws JSON_NOT_CANONICALIZABLE for values JSON cannot carry. */
export function canonicalJson(value: unknown): string {
  return serialise(value, "");
}
