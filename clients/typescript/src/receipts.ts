// Receipts: checking a countersign approval receipt with WebCrypto, no library needed.
//
// A receipt is a compact JWS (alg EdDSA) signed by the server's Ed25519 key, whose public half
// `GET /v1/keys` serves as a JWKS (docs/receipts.md). verifyReceipt makes the checks an
// executor should make before acting, in the order and with the fault names of
// `countersign receipt verify` and the Python client.
import { argumentsSha256 } from './canonical-json.js';
import { ReceiptInvalid } from './errors.js';
import type { Jwk, Jwks, ReceiptClaims } from './types.js';

/** What the receipt must approve, and when "now" is. */
export interface ReceiptExpectations {
  /** The action about to be run. */
  action?: string;
  /** The arguments about to be run with (hashed as the server hashes them). */
  arguments?: Record<string, unknown>;
  /** Their hash, instead of `arguments`. */
  argumentsSha256?: string;
  /** Unix seconds to check `exp` and `not_after` against; default: now. */
  now?: number;
}

const CLAIM_TYPES: Array<[keyof ReceiptClaims, 'string' | 'array' | 'integer']> = [
  ['request_id', 'string'],
  ['tenant', 'string'],
  ['action', 'string'],
  ['arguments_sha256', 'string'],
  ['outcome', 'string'],
  ['approvers', 'array'],
  ['decided_at', 'integer'],
  ['exp', 'integer'],
  ['iat', 'integer'],
];

/** The claims of a receipt WITHOUT checking its signature, for display and logging. Throws
 * ReceiptInvalid (fault `malformed`) when it is not a compact JWS with an object payload. */
export function decodeReceipt(receipt: string): ReceiptClaims {
  const parts = typeof receipt === 'string' ? receipt.split('.') : [];
  if (parts.length !== 3) throw new ReceiptInvalid('malformed', 'not a compact JWS: not three parts');
  const claims = parseJsonPart(parts[1] as string, 'payload');
  return claims as ReceiptClaims;
}

/**
 * Checks a receipt against `jwks` (the answer of `GET /v1/keys`) and returns its claims;
 * throws ReceiptInvalid naming the first check that failed:
 * the header says alg EdDSA, names a kid and has no crit (`malformed`); the JWKS has an
 * Ed25519 key with that kid (`unknown_key`); the signature verifies (`bad_signature`); every
 * claim is present with its JSON type (`malformed`); outcome is approved (`not_approved`);
 * now < exp and now < not_after (`expired`); then, when given, the action
 * (`action_mismatch`) and the arguments' hash (`arguments_mismatch`).
 */
export async function verifyReceipt(receipt: string, jwks: Jwks, expect: ReceiptExpectations = {}): Promise<ReceiptClaims> {
  const parts = typeof receipt === 'string' ? receipt.split('.') : [];
  if (parts.length !== 3) throw new ReceiptInvalid('malformed', 'not a compact JWS: not three parts');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = parseJsonPart(headerPart, 'header');
  if (header.alg !== 'EdDSA') throw new ReceiptInvalid('malformed', "the header's alg is not EdDSA");
  const kid = header.kid;
  if (typeof kid !== 'string' || kid === '') throw new ReceiptInvalid('malformed', 'the header names no kid');
  if ('crit' in header) throw new ReceiptInvalid('malformed', 'the header has crit, which is not supported');
  const signature = base64UrlDecode(signaturePart, 'signature');

  const jwk = findKey(jwks, kid);
  if (jwk === null) throw new ReceiptInvalid('unknown_key', `no Ed25519 key with kid ${kid} in the JWKS`);
  const key = await importEd25519(jwk);
  const signed = new TextEncoder().encode(`${headerPart}.${payloadPart}`);
  if (!(await crypto.subtle.verify({ name: 'Ed25519' }, key, signature, signed))) {
    throw new ReceiptInvalid('bad_signature', 'the signature does not verify');
  }

  const claims = parseJsonPart(payloadPart, 'payload') as ReceiptClaims;
  for (const [name, type] of CLAIM_TYPES) {
    const value = claims[name];
    const ok = type === 'array' ? Array.isArray(value) : type === 'integer' ? Number.isInteger(value) : typeof value === type;
    if (!ok) throw new ReceiptInvalid('malformed', `claim ${name} is missing or not a${type === 'integer' ? 'n' : ''} ${type}`, claims);
  }
  if (claims.outcome !== 'approved') {
    throw new ReceiptInvalid('not_approved', `outcome is ${JSON.stringify(claims.outcome)}`, claims);
  }
  const now = expect.now ?? Date.now() / 1000;
  if (now >= claims.exp) throw new ReceiptInvalid('expired', `expired at ${claims.exp} (now ${Math.floor(now)})`, claims);
  if (typeof claims.not_after === 'number' && now >= claims.not_after) {
    throw new ReceiptInvalid('expired', `not usable after ${claims.not_after} (now ${Math.floor(now)})`, claims);
  }
  if (expect.action !== undefined && claims.action !== expect.action) {
    throw new ReceiptInvalid('action_mismatch', `the receipt approves action ${JSON.stringify(claims.action)}, not ${JSON.stringify(expect.action)}`, claims);
  }
  const expected = expect.arguments !== undefined ? await argumentsSha256(expect.arguments) : expect.argumentsSha256;
  if (expected !== undefined && claims.arguments_sha256 !== expected) {
    throw new ReceiptInvalid('arguments_mismatch', `the arguments hash to ${expected} but the receipt approves ${claims.arguments_sha256}`, claims);
  }
  return claims;
}

function findKey(jwks: Jwks, kid: string): Jwk | null {
  const keys = jwks && Array.isArray(jwks.keys) ? jwks.keys : [];
  for (const key of keys) {
    if (
      key && key.kid === kid && key.kty === 'OKP' && key.crv === 'Ed25519' &&
      (key.alg ?? 'EdDSA') === 'EdDSA' && (key.use ?? 'sig') === 'sig' && typeof key.x === 'string'
    ) {
      try {
        if (base64UrlDecode(key.x, 'key').length === 32) return key;
      } catch {
        // A key whose x is not base64url is no key: look on.
      }
    }
  }
  return null;
}

async function importEd25519(jwk: Jwk): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: jwk.x as string }, { name: 'Ed25519' }, false, ['verify']);
  } catch (error) {
    // The runtime's WebCrypto lacks Ed25519 (Node before 18.4, some edge runtimes).
    throw new ReceiptInvalid('unsupported', `this runtime's WebCrypto cannot import an Ed25519 key: ${(error as Error).message}`);
  }
}

function parseJsonPart(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64UrlDecode(part, what)));
  } catch (error) {
    if (error instanceof ReceiptInvalid) throw error;
    throw new ReceiptInvalid('malformed', `the ${what} is not JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ReceiptInvalid('malformed', `the ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function base64UrlDecode(text: string, what: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new ReceiptInvalid('malformed', `not a compact JWS: the ${what} is not base64url`);
  }
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
