"""Signed approval receipts, end to end.

A request approved over the API carries a compact JWS in `receipt` (null otherwise). It must
verify with `countersign receipt verify` and with an independent verifier that knows nothing
but GET /v1/keys and Ed25519 (Python `cryptography`, Debian's python3-cryptography); a
flipped byte, an expired `exp` and other arguments must all fail. The canonical-JSON port
below is the one docs/receipts.md gives, checked here against the server's own hashes.
"""

import base64
import decimal
import hashlib
import json
import math
import os
import socket
import stat
import subprocess
import tempfile
import time
import unittest

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import harness

CLI_TIMEOUT = 60  # seconds; a safety net so a hung CLI fails the test instead of the run


# -- an independent verifier: stdlib + cryptography, nothing from countersign -------------------
def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Invalid(Exception):
    pass


def verify_receipt(token, jwks, now):
    """The claims of `token` if it is a valid receipt at Unix time `now`; raises otherwise."""
    header_b64, payload_b64, signature_b64 = token.split(".")
    header = json.loads(b64url_decode(header_b64))
    if header.get("alg") != "EdDSA":
        raise Invalid("alg is not EdDSA")
    keys = [k for k in jwks["keys"]
            if k.get("kid") == header.get("kid") and k.get("kty") == "OKP"
            and k.get("crv") == "Ed25519"]
    if not keys:
        raise Invalid("unknown kid")
    public_key = Ed25519PublicKey.from_public_bytes(b64url_decode(keys[0]["x"]))
    try:
        public_key.verify(b64url_decode(signature_b64), f"{header_b64}.{payload_b64}".encode())
    except InvalidSignature:
        raise Invalid("bad signature")
    claims = json.loads(b64url_decode(payload_b64))
    if claims["outcome"] != "approved":
        raise Invalid("not approved")
    if now >= claims["exp"]:
        raise Invalid("expired")
    return claims


def jwk_thumbprint(jwk):
    """RFC 7638: SHA-256 of the required members, sorted, no whitespace; base64url."""
    required = {k: jwk[k] for k in ("crv", "kty", "x")}
    canonical = json.dumps(required, sort_keys=True, separators=(",", ":"))
    return b64url_encode(hashlib.sha256(canonical.encode()).digest())


# -- canonical JSON, as docs/receipts.md defines it ---------------------------------------------
def boost_double(f):
    """A double as Boost.JSON prints it: shortest round-trip digits, d[.ddd]E[-]n."""
    if f == 0:
        return "-0E0" if math.copysign(1.0, f) < 0 else "0E0"
    sign, digits, exponent = decimal.Decimal(repr(abs(f))).as_tuple()
    digits = list(digits)
    while len(digits) > 1 and digits[-1] == 0:
        digits.pop()
        exponent += 1
    mantissa = str(digits[0]) + ("." + "".join(map(str, digits[1:])) if len(digits) > 1 else "")
    return ("-" if f < 0 else "") + f"{mantissa}E{exponent + len(digits) - 1}"


def canonical_json(value):
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: kv[0].encode())
        return "{" + ",".join(canonical_json(k) + ":" + canonical_json(v) for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(canonical_json(v) for v in value) + "]"
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        if -2**63 <= value < 2**64:
            return str(value)
        return boost_double(float(value))
    if isinstance(value, float):
        return boost_double(value)
    raise TypeError(type(value))


def arguments_sha256(arguments):
    return hashlib.sha256(canonical_json(arguments).encode()).hexdigest()


# -- helpers --------------------------------------------------------------------------------------
def clean_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("COUNTERSIGN_")}


def run_cli(args, env=None, stdin=None):
    return subprocess.run([harness.BIN] + list(args), env=env if env is not None else clean_env(),
                          input=stdin, capture_output=True, text=True, timeout=CLI_TIMEOUT)


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flip_byte(token, part, index):
    """`token` with one decoded byte of part 1 (payload) or 2 (signature) flipped."""
    parts = token.split(".")
    data = bytearray(b64url_decode(parts[part]))
    data[index] ^= 0x01
    parts[part] = b64url_encode(bytes(data))
    return ".".join(parts)


ARGUMENTS = {"ref": "v2.0", "replicas": 3, "regions": ["eu-west-1", "us-east-1"],
             "notes": "caf\u00e9 \"quoted\"\n", "canary": {"percent": 10, "enabled": True}}


class ReceiptTestCase(harness.ServerTestCase):
    def setUp(self):
        super().setUp()
        s = self.server
        self.agent = s.create_token("ci-bot", "agent")
        self.alice = s.create_token("alice", "approver", groups=["sre"])
        self.tmp = tempfile.mkdtemp(prefix="countersign-receipts-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", self.tmp]))

    def jwks(self):
        r = self.server.call("GET", "/v1/keys", token=None)
        self.assertEqual(r.status, 200, r)
        return r.json

    def approved(self, arguments=ARGUMENTS, action="deploy_production"):
        """Creates a request as the agent, approves it as alice; returns the request JSON."""
        req = self.server.create_request(token=self.agent, action=action, arguments=arguments)
        r = self.server.call("POST", f"/v1/requests/{req['id']}/decisions",
                             {"choice": "approve"}, token=self.alice)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "approved", r)
        got = self.server.call("GET", f"/v1/requests/{req['id']}", token=self.agent)
        self.assertEqual(got.status, 200, got)
        self.assertIsInstance(got.json.get("receipt"), str,
                              "an approved request carries its receipt as a string")
        return got.json

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def verify(self, token, *args, stdin=None):
        env = clean_env()
        env["COUNTERSIGN_URL"] = self.server.url
        return run_cli(["receipt", "verify", token] + list(args), env=env, stdin=stdin)


class KeysTest(ReceiptTestCase):
    def test_keys_are_a_public_cacheable_jwks_of_one_ed25519_key(self):
        r = self.server.call("GET", "/v1/keys", token=None)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers["Cache-Control"], "public, max-age=300")
        self.assertEqual(r.headers["Content-Type"], "application/json")
        [key] = r.json["keys"]
        self.assertEqual({k: key[k] for k in ("kty", "crv", "alg", "use")},
                         {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig"})
        self.assertEqual(len(b64url_decode(key["x"])), 32)
        self.assertEqual(key["kid"], jwk_thumbprint(key))
        self.assertNotIn("d", key)

    def test_the_key_file_is_private_and_survives_a_restart(self):
        path = os.path.join(self.server.data_dir, "receipt_key.pem")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with open(path) as f:
            self.assertTrue(f.read().startswith("-----BEGIN PRIVATE KEY-----"))
        before = self.jwks()
        self.server.stop()
        self.server.start()
        self.assertEqual(self.jwks(), before)


class ReceiptTest(ReceiptTestCase):
    def test_an_approved_request_has_a_receipt_of_its_approval(self):
        req = self.approved()
        claims = verify_receipt(req["receipt"], self.jwks(), now=0)
        self.assertEqual(claims["request_id"], req["id"])
        self.assertEqual(claims["tenant"], "default")
        self.assertEqual(claims["action"], "deploy_production")
        self.assertEqual(claims["arguments_sha256"], req["arguments_sha256"])
        self.assertEqual(claims["outcome"], "approved")
        self.assertEqual(claims["approvers"], ["alice"])
        for name in ("decided_at", "exp", "iat"):
            self.assertIsInstance(claims[name], int, name)
        self.assertLess(claims["decided_at"], claims["exp"])
        header = json.loads(b64url_decode(req["receipt"].split(".")[0]))
        self.assertEqual(header["alg"], "EdDSA")
        self.assertEqual(header["kid"], self.jwks()["keys"][0]["kid"])

    def test_receipts_are_signed_with_nonces_made_ahead_and_still_verify(self):
        # The pool fills on an idle core; wait until it has a few, then approve.
        harness.poll(lambda: harness.metrics(self.server)["countersign_signing_nonces"] >= 10,
                     "signing nonces ready in the pool")
        before = harness.metrics(self.server)
        receipts = [self.approved()["receipt"] for _ in range(3)]
        after = harness.metrics(self.server)
        pool = 'countersign_signatures_total{nonce="pool"}'
        inline = 'countersign_signatures_total{nonce="inline"}'
        self.assertGreaterEqual(after[pool] - before[pool], 3)
        self.assertEqual(after[inline], before[inline])
        jwks = self.jwks()
        for token in receipts:
            self.assertEqual(verify_receipt(token, jwks, now=0)["outcome"], "approved")
        self.assertEqual(len({token.split(".")[2] for token in receipts}), 3)

    def test_the_wait_answer_carries_the_receipt_too(self):
        req = self.approved()
        r = self.server.call("GET", f"/v1/requests/{req['id']}/wait?timeout=0", token=self.agent)
        self.assertEqual(r.status, 200, r)
        self.assertIsInstance(r.json["receipt"], str)
        self.assertEqual(verify_receipt(r.json["receipt"], self.jwks(), now=0),
                         verify_receipt(req["receipt"], self.jwks(), now=0))

    def test_pending_and_denied_requests_have_a_null_receipt(self):
        req = self.server.create_request(token=self.agent, arguments=ARGUMENTS)
        self.assertIn("receipt", req)
        self.assertIsNone(req["receipt"])
        r = self.server.call("POST", f"/v1/requests/{req['id']}/decisions",
                             {"choice": "deny"}, token=self.alice)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "denied")
        self.assertIsNone(r.json["receipt"])
        got = self.server.call("GET", f"/v1/requests/{req['id']}", token=self.agent)
        self.assertIsNone(got.json["receipt"])

    def test_the_cli_verifies_a_receipt_against_the_servers_keys(self):
        req = self.approved()
        r = self.verify(req["receipt"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("valid receipt", r.stdout)
        self.assertIn(req["id"], r.stdout)
        r = self.verify(req["receipt"], "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertTrue(out["valid"])
        self.assertIsNone(out["fault"])
        self.assertEqual(out["claims"], verify_receipt(req["receipt"], self.jwks(), now=0))

    def test_the_cli_verifies_offline_from_a_jwks_file_and_stdin(self):
        req = self.approved()
        jwks = self.write("jwks.json", json.dumps(self.jwks()))
        env = clean_env()
        env["COUNTERSIGN_URL"] = f"http://127.0.0.1:{closed_port()}"
        r = run_cli(["receipt", "verify", req["receipt"], "--jwks", jwks], env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run_cli(["receipt", "verify", "-", "--jwks", jwks], env=env,
                    stdin=req["receipt"] + "\n")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_a_flipped_byte_fails_both_verifiers(self):
        req = self.approved()
        jwks = self.jwks()
        token = req["receipt"]
        payload_len = len(b64url_decode(token.split(".")[1]))
        forged = [flip_byte(token, 1, 0), flip_byte(token, 1, payload_len // 2),
                  flip_byte(token, 1, payload_len - 1), flip_byte(token, 2, 0),
                  flip_byte(token, 2, 31), flip_byte(token, 2, 63)]
        middle = len(token) // 2
        forged.append(token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:])
        for bad in forged:
            with self.subTest(token=bad):
                with self.assertRaises(Exception):
                    verify_receipt(bad, jwks, now=0)
                r = self.verify(bad)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn("invalid receipt", r.stderr)
        r = self.verify(flip_byte(token, 2, 10))
        self.assertIn("bad_signature", r.stderr)

    def test_an_expired_receipt_fails_both_verifiers(self):
        req = self.approved()
        exp = verify_receipt(req["receipt"], self.jwks(), now=0)["exp"]
        r = self.verify(req["receipt"], "--at", str(exp - 1))
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.verify(req["receipt"], "--at", str(exp))
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("expired", r.stderr)
        r = self.verify(req["receipt"], "--at", str(exp + 86400), "--json")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(json.loads(r.stdout)["fault"], "expired")
        with self.assertRaises(Invalid):
            verify_receipt(req["receipt"], self.jwks(), now=exp)

    def test_the_arguments_and_action_must_be_the_approved_ones(self):
        req = self.approved()
        token = req["receipt"]
        # The same arguments, other member order and whitespace: same canonical JSON.
        same = self.write("same.json", json.dumps(dict(reversed(list(ARGUMENTS.items()))),
                                                  indent=2))
        other = self.write("other.json", json.dumps(dict(ARGUMENTS, replicas=30)))
        r = self.verify(token, "--action", "deploy_production", "--arguments", same)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.verify(token, "--arguments", "-", stdin=json.dumps(ARGUMENTS))
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.verify(token, "--arguments", other)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("arguments_mismatch", r.stderr)
        r = self.verify(token, "--action", "delete_database", "--arguments", same)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("action_mismatch", r.stderr)
        # An independent verifier recomputes the same hash with the documented algorithm.
        claims = verify_receipt(token, self.jwks(), now=0)
        self.assertEqual(claims["arguments_sha256"], arguments_sha256(ARGUMENTS))
        self.assertNotEqual(claims["arguments_sha256"],
                            arguments_sha256(dict(ARGUMENTS, replicas=30)))

    def test_unusable_inputs_exit_3_and_a_malformed_token_exits_1(self):
        req = self.approved()
        env = clean_env()
        env["COUNTERSIGN_URL"] = f"http://127.0.0.1:{closed_port()}"
        r = run_cli(["receipt", "verify", req["receipt"]], env=env)
        self.assertEqual(r.returncode, 3, r.stderr)
        r = self.verify(req["receipt"], "--jwks", os.path.join(self.tmp, "missing.json"))
        self.assertEqual(r.returncode, 3, r.stderr)
        r = self.verify(req["receipt"], "--jwks", self.write("bad.json", "{not json"))
        self.assertEqual(r.returncode, 3, r.stderr)
        r = self.verify(req["receipt"], "--jwks", self.write("empty.json", '{"keys":[]}'))
        self.assertEqual(r.returncode, 3, r.stderr)
        r = self.verify(req["receipt"], "--arguments", self.write("args.txt", "ref=v2.0"))
        self.assertEqual(r.returncode, 3, r.stderr)
        r = self.verify("not-a-receipt")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("malformed", r.stderr)
        r = run_cli(["receipt", "verify"])
        self.assertEqual(r.returncode, 3)

    def test_help_lists_the_options(self):
        r = run_cli(["receipt", "verify", "--help"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for option in ("TOKEN", "--jwks", "--url", "--action", "--arguments", "--at", "--json",
                       "Exit status"):
            self.assertIn(option, r.stdout)


class CanonicalJsonTest(ReceiptTestCase):
    """The documented algorithm (canonical_json above) gives the server's arguments_sha256."""

    CASES = [
        {},
        {"b": 1, "a": 2, "A": 3, "_": 4, "aa": 5, "\u00e9": 6, "z": 7, "\U0001F600": 8,
         "\u20ac": 9},
        {"s": "quote \" backslash \\ slash / tab \t newline \n nul \u0000 unit \u001f del \u007f",
         "u": "caf\u00e9 \u20ac \U0001F600 \u2028"},
        {"ints": [0, -1, 1, 9007199254740993, -2**63, 2**63 - 1, 2**63, 2**64 - 1]},
        {"big": [2**64, -2**63 - 1, 10**30]},
        {"floats": [1.5, 0.1, -2.25, 1.0, 100.0, 1e21, 1e-7, 123456.789, 5e-324,
                    1.7976931348623157e308, -0.0, 0.0]},
        {"nested": {"z": [{"b": None, "a": False}], "a": {"y": True, "x": []}}},
    ]

    def test_the_documented_algorithm_matches_the_server(self):
        for arguments in self.CASES:
            with self.subTest(arguments=arguments):
                req = self.server.create_request(token=self.agent, arguments=arguments)
                self.assertEqual(req["arguments_sha256"], arguments_sha256(arguments),
                                 canonical_json(arguments))

    def test_negative_zero_and_exponents_match_too(self):
        raw = ('{"action":"deploy_production","title":"t","arguments":'
               '{"int_zero":-0,"float_zero":-0.0,"e":1E+2,"f":2.5e-3}}')
        r = self.server.call("POST", "/v1/requests", raw=raw.encode(), token=self.agent)
        self.assertEqual(r.status, 201, r)
        arguments = json.loads(raw)["arguments"]
        self.assertEqual(canonical_json(arguments),
                         '{"e":1E2,"f":2.5E-3,"float_zero":-0E0,"int_zero":0}')
        self.assertEqual(r.json["arguments_sha256"], arguments_sha256(arguments))

    def test_the_documented_example(self):
        example = {"replicas": 3, "ref": "v2.0"}
        self.assertEqual(canonical_json(example), '{"ref":"v2.0","replicas":3}')
        req = self.server.create_request(token=self.agent, arguments=example)
        self.assertEqual(req["arguments_sha256"],
                         "a2578fe60ff2789048626f36128d2ce39996eb00ec6ecda4e7deae0bf182a48f")


# -- consuming receipts (POST /v1/receipts/consume) -----------------------------------------------
SINGLE_USE_CONFIG = """
[[policy]]
name = "once"
match = { action = "wipe_*" }
receipt = "single_use"
"""


class ConsumeTest(unittest.TestCase):
    """A server whose policy makes wipe_* receipts single-use; deploy_* stay reusable."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="countersign-consume-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", self.tmp]))
        config = os.path.join(self.tmp, "countersign.toml")
        with open(config, "w") as f:
            f.write(SINGLE_USE_CONFIG)
        self.server = harness.Server(extra_args=["--config", config])
        self.server.start()
        self.addCleanup(self.server.cleanup)
        s = self.server
        self.agent = s.create_token("ci-bot", "agent")
        self.runner = s.create_token("runner", "agent")
        self.alice = s.create_token("alice", "approver", groups=["sre"])

    def approved(self, action="wipe_cache", receipt=None, arguments=None):
        req = self.server.create_request(token=self.agent, action=action,
                                         arguments=arguments or {"cache": "eu"})
        decision = {"choice": "approve"}
        if receipt is not None:
            decision["receipt"] = receipt
        r = self.server.call("POST", f"/v1/requests/{req['id']}/decisions", decision,
                             token=self.alice)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "approved", r)
        return r.json

    def consume(self, receipt, token):
        return self.server.call("POST", "/v1/receipts/consume", {"receipt": receipt},
                                token=token)

    def test_consume_twice_is_200_then_409_naming_the_first_consumer(self):
        req = self.approved()
        self.assertEqual(req["receipt_use"], "single_use")
        claims = json.loads(b64url_decode(req["receipt"].split(".")[1]))
        self.assertTrue(claims["jti"].startswith("rct_"), claims)
        self.assertEqual(claims["receipt_use"], "single_use")
        self.assertEqual(claims["max_uses"], 1)

        first = self.consume(req["receipt"], self.runner)
        self.assertEqual(first.status, 200, first)
        self.assertEqual(first.json["consumed"], True)
        self.assertEqual(first.json["jti"], claims["jti"])
        self.assertEqual(first.json["request_id"], req["id"])
        self.assertEqual((first.json["uses"], first.json["max_uses"]), (1, 1))
        self.assertEqual(first.json["consumed_by"], "runner")

        second = self.consume(req["receipt"], self.agent)
        self.assertEqual(second.status, 409, second)
        error = second.json["error"]
        self.assertEqual(error["code"], "already_consumed")
        self.assertEqual(error["consumed_by"], "runner")
        self.assertEqual(error["consumed_at"], first.json["consumed_at"])
        self.assertEqual((error["uses"], error["max_uses"]), (1, 1))
        self.assertIn(f"receipt {claims['jti']} was consumed at {first.json['consumed_at']} "
                      "by runner", error["message"])

        # One receipt.consumed event, for the use that counted, in the request's audit log.
        consumed = [e for e in self.server.audit(req["id"]) if e["type"] == "receipt.consumed"]
        self.assertEqual(len(consumed), 1, consumed)
        self.assertEqual(consumed[0]["actor"], "runner")
        self.assertEqual(consumed[0]["request_id"], req["id"])
        self.assertEqual(consumed[0]["data"], {"jti": claims["jti"], "uses": 1, "max_uses": 1,
                                               "by": "runner"})

    def test_two_processes_consuming_at_once_get_exactly_one_200(self):
        req = self.approved()
        env = clean_env()
        env["COUNTERSIGN_URL"] = self.server.url
        procs = []
        for token in (self.agent, self.runner):
            proc_env = dict(env, COUNTERSIGN_TOKEN=token)
            procs.append(subprocess.Popen(
                [harness.BIN, "receipt", "verify", req["receipt"], "--consume", "--json"],
                env=proc_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=CLI_TIMEOUT)
            results.append((proc.returncode, json.loads(out), err))
        codes = sorted(code for code, _, _ in results)
        self.assertEqual(codes, [0, 1], results)
        statuses = sorted(verdict["consume"]["status"] for _, verdict, _ in results)
        self.assertEqual(statuses, [200, 409], results)
        winner = next(v for c, v, _ in results if c == 0)["consume"]["answer"]
        loser_code, loser, loser_err = next(r for r in results if r[0] == 1)
        self.assertEqual(loser["consume"]["answer"]["error"]["consumed_by"],
                         winner["consumed_by"])
        self.assertIn("was consumed at", loser_err)
        self.assertTrue(loser["valid"], loser)  # the receipt itself is fine; its use is spent

    def test_the_cli_consumes_and_prints_the_use(self):
        req = self.approved()
        env = clean_env()
        env["COUNTERSIGN_URL"] = self.server.url
        token_file = os.path.join(self.tmp, "token")
        with open(token_file, "w") as f:
            f.write(self.runner)
        first = run_cli(["receipt", "verify", req["receipt"], "--consume", "--token-file",
                         token_file], env=env)
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertIn("use 1 of 1, by runner", first.stdout)
        self.assertIn("receipt_use:      single_use", first.stdout)
        again = run_cli(["receipt", "verify", req["receipt"], "--consume", "--token",
                         self.agent], env=env)
        self.assertEqual(again.returncode, 1, again.stderr)
        self.assertIn("by runner", again.stderr)
        self.assertIn("already_consumed", again.stderr)
        # Without --consume nothing is used: verification alone is offline and repeatable.
        plain = run_cli(["receipt", "verify", req["receipt"]], env=env)
        self.assertEqual(plain.returncode, 0, plain.stderr)

    def test_max_uses_two_is_200_200_then_409(self):
        req = self.approved(action="deploy_app", receipt={"max_uses": 2})
        self.assertEqual(req["receipt_use"], "reusable")
        self.assertEqual([self.consume(req["receipt"], self.runner).status for _ in range(3)],
                         [200, 200, 409])
        uses = [e["data"]["uses"] for e in self.server.audit(req["id"])
                if e["type"] == "receipt.consumed"]
        self.assertEqual(uses, [1, 2])

    def test_a_reusable_receipt_counts_every_use(self):
        req = self.approved(action="deploy_app")
        for use in (1, 2, 3):
            r = self.consume(req["receipt"], self.runner)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["uses"], use)

    def test_a_receipt_past_the_approvers_not_after_is_422(self):
        not_after = int(time.time()) + 2
        req = self.approved(receipt={"not_after": not_after})
        claims = json.loads(b64url_decode(req["receipt"].split(".")[1]))
        self.assertEqual(claims["not_after"], not_after)
        # Time passes by an event, not a sleep: a request with a 3 s deadline, created after
        # the approval, expires after not_after; its long-poll answers when it does.
        clock = self.server.create_request(token=self.agent, action="deploy_clock",
                                           timeout_seconds=3)
        waited = self.server.call("GET", f"/v1/requests/{clock['id']}/wait?timeout=30",
                                  token=self.agent)
        self.assertEqual(waited.json["status"], "expired", waited)
        r = self.consume(req["receipt"], self.runner)
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json["error"]["code"], "invalid_receipt")
        self.assertIn("expired", r.json["error"]["message"])
        self.assertIn("not_after", r.json["error"]["message"])

    def test_a_foreign_forged_or_malformed_receipt_is_refused(self):
        req = self.approved()
        foreign = self.server.create_token("acme-bot", "agent", tenant="acme")
        r = self.consume(req["receipt"], foreign)
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json["error"]["code"], "invalid_receipt")
        self.assertIn("not of your tenant", r.json["error"]["message"])
        self.assertNotIn(req["id"], r.json["error"]["message"])

        forged = flip_byte(req["receipt"], 2, 5)
        r = self.consume(forged, self.runner)
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json["error"]["code"], "invalid_receipt")
        self.assertIn("bad_signature", r.json["error"]["message"])

        for body in ({}, {"receipt": 7}, {"receipt": ""}):
            r = self.server.call("POST", "/v1/receipts/consume", body, token=self.runner)
            self.assertEqual(r.status, 400, (body, r))

        # An approver does not execute: 403. Nothing above used the receipt up.
        r = self.consume(req["receipt"], self.alice)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.consume(req["receipt"], self.runner).status, 200)

    def test_constraints_only_with_an_approval_and_in_range(self):
        req = self.server.create_request(token=self.agent, action="wipe_cache")
        path = f"/v1/requests/{req['id']}/decisions"
        cases = [
            ({"choice": "deny", "receipt": {"max_uses": 2}}, 422, None),
            ({"choice": "approve", "receipt": {"max_uses": 0}}, 422, "receipt.max_uses"),
            ({"choice": "approve", "receipt": {"max_uses": 1001}}, 422, "receipt.max_uses"),
            ({"choice": "approve", "receipt": {"not_after": "soon"}}, 422, "receipt.not_after"),
            ({"choice": "approve", "receipt": {"not_after": 1}}, 422, "receipt.not_after"),
            ({"choice": "approve",
              "receipt": {"not_after": int(time.time()) + 7200}}, 422,
             "receipt.not_after"),
            ({"choice": "approve", "receipt": {"max_uses": "2"}}, 400, None),
            ({"choice": "approve", "receipt": []}, 400, None),
        ]
        for body, status, field in cases:
            r = self.server.call("POST", path, body, token=self.alice)
            self.assertEqual(r.status, status, (body, r))
            if field:
                self.assertEqual(r.json["error"].get("field"), field, (body, r))
        self.assertEqual(self.server.get_request(req["id"])["status"], "pending")

        # RFC 3339 text works as well as Unix seconds.
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                     time.gmtime(time.time() + 600))
        approved = self.approved(receipt={"not_after": when, "max_uses": 3})
        claims = json.loads(b64url_decode(approved["receipt"].split(".")[1]))
        self.assertEqual(claims["max_uses"], 3)
        self.assertLessEqual(claims["not_after"], claims["exp"])

    def test_exec_refuses_to_run_a_replayed_single_use_approval(self):
        marker = os.path.join(self.tmp, "ran")
        env = clean_env()
        env["COUNTERSIGN_URL"] = self.server.url
        env["COUNTERSIGN_TOKEN"] = self.agent
        command = [harness.BIN, "exec", "--action", "wipe_cache", "--idempotency-key",
                   "wipe-1", "--no-report", "--", "sh", "-c", "echo ran >> ran"]
        first = subprocess.Popen(command, env=env, cwd=self.tmp, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: first.poll() is None and first.kill())
        deadline = time.monotonic() + 30
        while True:
            r = self.server.call("GET", "/v1/requests?status=pending&action=wipe_cache",
                                 token=self.alice)
            if r.json["requests"]:
                request_id = r.json["requests"][0]["id"]
                break
            self.assertIsNone(first.poll(), "exec exited before asking")
            self.assertLess(time.monotonic(), deadline, "exec did not ask")
            time.sleep(0.01)  # polling for a condition, not waiting for time to pass
        r = self.server.call("POST", f"/v1/requests/{request_id}/decisions",
                             {"choice": "approve"}, token=self.alice)
        self.assertEqual(r.status, 200, r)
        _, err = first.communicate(timeout=CLI_TIMEOUT)
        self.assertEqual(first.returncode, 0, err)

        # The same key and command again: the same approved request, whose receipt is spent.
        second = subprocess.run(command, env=env, cwd=self.tmp, capture_output=True,
                                text=True, timeout=CLI_TIMEOUT)
        self.assertEqual(second.returncode, 1, second.stderr)
        self.assertIn(request_id, second.stderr)
        self.assertIn("by ci-bot", second.stderr)
        self.assertIn("not running", second.stderr)
        with open(marker) as f:
            self.assertEqual(f.read(), "ran\n")  # once
        uses = [e for e in self.server.audit(request_id) if e["type"] == "receipt.consumed"]
        self.assertEqual(len(uses), 1)


if __name__ == "__main__":
    unittest.main()
