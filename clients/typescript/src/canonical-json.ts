// The canonical JSON the server hashes into `arguments_sha256` (docs/receipts.md, "Canonical
// JSON and arguments_sha256"), so an executor can check that a receipt approves exactly the
// arguments it is about to run with.
//
// One difference JavaScript cannot avoid: it has one number type, so `1.0` sent by another
// client reads here as the integer 1, while the server, which parsed "1.0" as a double,
// hashes `1E0`. Hashing values this program built itself is exact.

const encoder = new TextEncoder();

/** The canonical JSON text of `value`: keys sorted by their UTF-8 bytes, no whitespace, raw
 * UTF-8, integers in decimal, other numbers as Boost.JSON prints doubles (`1.5E0`). */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return quote(value);
    case 'number':
      return number(value);
    case 'bigint':
      return value.toString();
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
      entries.sort(([a], [b]) => compareUtf8(a, b));
      return `{${entries.map(([k, v]) => `${quote(k)}:${canonicalJson(v)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`${typeof value} has no JSON form`);
  }
}

/** The lower-case hex SHA-256 of `canonicalJson(args)`: what the server reports as
 * `arguments_sha256` for these arguments. Uses WebCrypto (Node 18+, Deno, Bun, browsers). */
export async function argumentsSha256(args: Record<string, unknown>): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(canonicalJson(args)));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function quote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (code === 0x08) out += '\\b';
    else if (code === 0x09) out += '\\t';
    else if (code === 0x0a) out += '\\n';
    else if (code === 0x0c) out += '\\f';
    else if (code === 0x0d) out += '\\r';
    else if (code < 0x20) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function number(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError('NaN and infinities have no JSON form');
  // JSON.stringify writes an integer-valued number below 1e21 as plain digits, which the
  // server reads as an integer when it fits 64 bits (signed, or failing that unsigned).
  if (Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 64) {
    return Object.is(value, -0) ? '0' : BigInt(value).toString();
  }
  // Shortest round-trip digits in scientific notation, as Boost.JSON (Ryu) writes doubles:
  // "1.5e+0" → "1.5E0", "1e-7" → "1E-7".
  const [mantissa, exponent] = value.toExponential().split('e');
  return `${mantissa}E${Number(exponent)}`;
}

function compareUtf8(a: string, b: string): number {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  }
  return x.length - y.length;
}
