"""Structured answers: a request's response_schema and the response a decision fills it with.

A request may carry a form (`response_schema`, the MCP elicitation subset); approving or
answering it then needs a `response` that fills the form, checked field by field. The response
shows in the request view, in each decision, in the decision.recorded audit event and, hashed,
in the approval's receipt. The one-click link page renders the form as HTML controls and reads
the posted controls back, typed; the CLI types `--field NAME=VALUE` by the same form. Every
refusal is a 422 naming the field at fault and leaves the request pending with no decision.

The two principals are an agent (ci-bot, the requester) and approvers alice and bob: the
requester may never decide its own request.
"""

import base64
import hashlib
import html
import html.parser
import json
import os
import subprocess
import unittest
import urllib.parse

import harness
from test_receipts import canonical_json, verify_receipt

CLI_TIMEOUT = 60  # seconds; a safety net so a hung CLI fails the test instead of the run

# Every kind of property the schema may hold, in the order the form shows them.
SCHEMA = {
    "type": "object",
    "properties": {
        "env": {"type": "string", "title": "Environment", "enum": ["staging", "prod"],
                "enumNames": ["Staging", "Production"]},
        "region": {"type": "string", "title": "Region", "default": "eu",
                   "oneOf": [{"const": "eu", "title": "Europe"},
                             {"const": "us", "title": "United States"}]},
        "replicas": {"type": "integer", "title": "Replicas", "minimum": 1, "maximum": 10,
                     "default": 3},
        "ratio": {"type": "number", "title": "Canary ratio", "minimum": 0, "maximum": 1},
        "notify": {"type": "boolean", "title": "Page the on-call", "default": False},
        "reason": {"type": "string", "title": "Reason", "description": "Why now?",
                   "minLength": 3, "maxLength": 80},
        "contact": {"type": "string", "title": "Contact", "format": "email"},
        "runbook": {"type": "string", "title": "Runbook", "format": "uri"},
        "window": {"type": "string", "title": "Window", "format": "date"},
        "start": {"type": "string", "title": "Start", "format": "date-time"},
        "checks": {"type": "array", "title": "Checks", "minItems": 1, "maxItems": 2,
                   "items": {"type": "string", "enum": ["smoke", "load", "security"]}},
        "teams": {"type": "array", "title": "Teams",
                  "items": {"anyOf": [{"const": "sre", "title": "SRE"},
                                      {"const": "db", "title": "Databases"}]}},
        "notes": {"type": "string", "title": "Notes"},
    },
    "required": ["env", "replicas", "reason", "checks"],
}

# A response that fills every field of SCHEMA.
VALID = {
    "env": "prod", "region": "us", "replicas": 4, "ratio": 0.25, "notify": True,
    "reason": "hotfix for OPS-42", "contact": "oncall@example.com",
    "runbook": "https://wiki.example.com/runbooks/deploy", "window": "2026-12-24",
    "start": "2026-12-24T10:00:00Z", "checks": ["smoke", "load"], "teams": ["sre", "db"],
    "notes": "caf\u00e9 \"quoted\"\nsecond line",
}

# Only the required fields.
MINIMAL = {"env": "staging", "replicas": 2, "reason": "routine", "checks": ["smoke"]}


def clean_env():
    """The caller's environment without any COUNTERSIGN_* variable."""
    return {k: v for k, v in os.environ.items() if not k.startswith("COUNTERSIGN_")}


def run_cli(args, env=None):
    return subprocess.run([harness.BIN] + list(args), env=env if env is not None else clean_env(),
                          capture_output=True, text=True, timeout=CLI_TIMEOUT)


def response_sha256(response):
    return hashlib.sha256(canonical_json(response).encode()).hexdigest()


def receipt_claims(receipt):
    payload = receipt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def with_field(schema_property, name="f", required=False):
    """A schema of the one property `schema_property` named `name`."""
    schema = {"type": "object", "properties": {name: schema_property}}
    if required:
        schema["required"] = [name]
    return schema


# The link page names a field's controls by the field's position among the schema's
# properties, not by its name (a name may hold "." and "-"): the i-th property's control is
# named r.<i> with id r-<i>, its help r-<i>-help, and option j of a multi-select r.<i>.<j> with
# id r-<i>-<j>.
def field_index(schema, field):
    return list(schema["properties"]).index(field)


def control_name(schema, field, option=None):
    name = f"r.{field_index(schema, field)}"
    return name if option is None else f"{name}.{option}"


def control_id(schema, field, option=None):
    name = f"r-{field_index(schema, field)}"
    return name if option is None else f"{name}-{option}"


def form_fields(schema, answers, **plain):
    """The posted pairs of a form filled with `answers`: a field name, or (field name, option
    index) for a ticked option of a multi-select, to the text typed; `plain` are the form's
    other fields (comment, answer)."""
    pairs = []
    for key, value in (answers.items() if isinstance(answers, dict) else answers):
        name = control_name(schema, *key) if isinstance(key, tuple) else control_name(schema, key)
        pairs.append((name, value))
    return pairs + list(plain.items())


class FormParser(html.parser.HTMLParser):
    """The form controls of a page: controls by id, labels by `for`, options per select,
    fieldsets with their legend and the controls inside them, and every name and id used."""

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.controls = {}      # id -> (tag, attrs)
        self.names = []         # every name="..." of a control, in order
        self.ids = []           # every id="..." on the page, in order
        self.labels = {}        # for -> label text
        self.options = {}       # select id -> [(value, text, attrs)]
        self.fieldsets = []     # [{"attrs", "legend", "controls": [ids]}]
        self.help = {}          # id of a help paragraph -> text
        self._text_into = None  # (dict, key) collecting text
        self._select = None
        self._option = None
        self._fieldset = None
        self._in_legend = False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag in ("input", "select", "textarea"):
            if "id" in attrs:
                self.controls[attrs["id"]] = (tag, attrs)
            if "name" in attrs:
                self.names.append(attrs["name"])
            if self._fieldset is not None and "id" in attrs:
                self._fieldset["controls"].append(attrs["id"])
        if tag == "select":
            self._select = attrs.get("id")
            self.options[self._select] = []
        elif tag == "option" and self._select is not None:
            self._option = [attrs.get("value"), "", attrs]
        elif tag == "label" and "for" in attrs:
            self.labels[attrs["for"]] = ""
            self._text_into = (self.labels, attrs["for"])
        elif tag == "p" and "id" in attrs:
            self.help[attrs["id"]] = ""
            self._text_into = (self.help, attrs["id"])
        elif tag == "fieldset":
            self._fieldset = {"attrs": attrs, "legend": "", "controls": []}
            self.fieldsets.append(self._fieldset)
        elif tag == "legend":
            self._in_legend = True

    def handle_endtag(self, tag):
        if tag in ("label", "p"):
            self._text_into = None
        elif tag == "select":
            self._select = None
        elif tag == "option" and self._option is not None:
            self.options[self._select].append(tuple(self._option))
            self._option = None
        elif tag == "fieldset":
            self._fieldset = None
        elif tag == "legend":
            self._in_legend = False

    def handle_data(self, data):
        if self._text_into is not None:
            target, key = self._text_into
            target[key] += data
        if self._option is not None:
            self._option[1] += data
        if self._in_legend and self._fieldset is not None:
            self._fieldset["legend"] += data


class StructuredTestCase(harness.ServerTestCase):
    def setUp(self):
        super().setUp()
        s = self.server
        self.agent = s.create_token("ci-bot", "agent")
        self.alice = s.create_token("alice", "approver", groups=["sre"])
        self.bob = s.create_token("bob", "approver")

    # -- the API -----------------------------------------------------------------------------
    def create(self, schema=SCHEMA, **fields):
        if schema is not None:
            fields["response_schema"] = schema
        return self.server.create_request(token=self.agent, **fields)

    def decide(self, request_id, body, token=None):
        return self.server.call("POST", f"/v1/requests/{request_id}/decisions", body,
                                token=token or self.alice)

    def decided(self, request_id, body, token=None):
        r = self.decide(request_id, body, token)
        self.assertEqual(r.status, 200, r)
        return r.json

    def assert_untouched(self, request_id):
        """Nothing was recorded: pending, no decision, no response, no decision event."""
        got = self.server.get_request(request_id)
        self.assertEqual(got["status"], "pending", got)
        self.assertEqual(got["decisions"], [], got)
        self.assertIsNone(got["response"], got)
        self.assertIsNone(got["receipt"], got)
        types = [e["type"] for e in self.server.audit(request_id)]
        self.assertNotIn("decision.recorded", types)
        self.assertNotIn("request.resolved", types)

    def assert_invalid(self, r, field):
        """A 422 whose error names `field`, in error.field and in the message."""
        self.assertEqual(r.status, 422, r)
        error = r.json["error"]
        self.assertEqual(error["code"], "invalid", r)
        self.assertEqual(error.get("field"), field, r)
        self.assertIn(field, error["message"], r)

    def assert_refused(self, request_id, response, field, choice="approve"):
        body = {"choice": choice, "response": response}
        self.assert_invalid(self.decide(request_id, body), field)
        self.assert_untouched(request_id)

    # -- links -------------------------------------------------------------------------------
    def mint(self, request_id, choice="approve", recipient="alice"):
        r = run_cli(["link", "--data-dir", self.server.data_dir, "--request", request_id,
                     "--choice", choice, "--as", recipient, "--public-url", self.server.url])
        self.assertEqual(r.returncode, 0, r.stderr)
        url = r.stdout.strip()
        self.assertTrue(url.startswith(self.server.url + "/l/"), url)
        return urllib.parse.urlsplit(url).path

    def page(self, path):
        page = self.server.call("GET", path, token=None)
        self.assertEqual(page.status, 200, page)
        return page

    def post_form(self, path, fields):
        return self.server.post_link_form(path, fields)

    def assert_page(self, response, status, *phrases):
        self.assertEqual(response.status, status, response)
        self.assertTrue(response.headers["Content-Type"].startswith("text/html"), response)
        text = html.unescape(response.body)
        for phrase in phrases:
            self.assertIn(phrase, text)

    # -- the CLI -----------------------------------------------------------------------------
    def cli(self, *args, token=None):
        env = clean_env()
        env["COUNTERSIGN_URL"] = self.server.url
        env["COUNTERSIGN_TOKEN"] = token or self.alice
        return run_cli(args, env=env)

    def cli_json(self, *args, token=None):
        r = self.cli(*args, "--json", token=token)
        self.assertEqual(r.returncode, 0, f"{args}:\nstdout={r.stdout}\nstderr={r.stderr}")
        return json.loads(r.stdout)


class SchemaTest(StructuredTestCase):
    def test_every_property_type_is_accepted_and_shown_back(self):
        created = self.create()
        self.assertEqual(created["status"], "pending")
        self.assertEqual(created["response_schema"], SCHEMA)
        self.assertIsNone(created["response"])
        got = self.server.get_request(created["id"], token=self.agent)
        self.assertEqual(got["response_schema"], SCHEMA)
        self.assertIsNone(got["response"])

    def test_each_single_kind_of_property_is_accepted_on_its_own(self):
        for prop in (
                {"type": "string"},
                {"type": "string", "minLength": 0, "maxLength": 10000, "default": "x"},
                {"type": "string", "format": "email", "default": "a@example.com"},
                {"type": "string", "format": "uri"},
                {"type": "string", "format": "date", "default": "2028-02-29"},
                {"type": "string", "format": "date-time", "default": "2026-12-03T10:00:00+02:00"},
                {"type": "number", "minimum": -1.5, "maximum": 2.5, "default": 0.5},
                {"type": "integer", "minimum": -3, "maximum": 3, "default": -3},
                {"type": "boolean", "default": True},
                {"type": "string", "enum": ["a", "b"], "default": "b"},
                {"type": "string", "oneOf": [{"const": "a", "title": "A"}, {"const": "b"}]},
                {"type": "array", "items": {"type": "string", "enum": ["a", "b"]},
                 "minItems": 0, "maxItems": 2, "default": ["a"]},
                {"type": "array", "items": {"anyOf": [{"const": "a", "title": "A"}]}},
        ):
            with self.subTest(prop=prop):
                created = self.create(with_field(prop, required=True))
                self.assertEqual(created["response_schema"]["properties"]["f"], prop)

    def test_a_bad_schema_is_422_naming_the_keyword_and_creates_nothing(self):
        p = "response_schema.properties.f"
        enum = {"type": "string", "enum": ["a", "b"]}
        multi = {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}
        cases = [
            # the object around the fields
            ({"type": "array", "properties": {"f": {"type": "string"}}}, "response_schema.type"),
            ({"properties": {"f": {"type": "string"}}}, "response_schema.type"),
            ({"type": "object", "properties": {}}, "response_schema.properties"),
            ({"type": "object"}, "response_schema.properties"),
            ({"type": "object", "properties": {"a b": {"type": "string"}}},
             "response_schema.properties"),
            ({"type": "object", "properties": {"f": {"type": "string"}}, "required": ["g"]},
             "response_schema.required"),
            ({"type": "object", "properties": {"f": {"type": "string"}}, "required": "f"},
             "response_schema.required"),
            # any field
            (with_field({"title": "no type"}), p + ".type"),
            (with_field({"type": "object"}), p + ".type"),
            (with_field({"type": "string", "title": 7}), p + ".title"),
            (with_field({"type": "string", "description": ["x"]}), p + ".description"),
            (with_field("string"), p),
            # strings
            (with_field({"type": "string", "minLength": -1}), p + ".minLength"),
            (with_field({"type": "string", "maxLength": "10"}), p + ".maxLength"),
            (with_field({"type": "string", "maxLength": 2.5}), p + ".maxLength"),
            (with_field({"type": "string", "minLength": 5, "maxLength": 2}), p + ".minLength"),
            (with_field({"type": "string", "format": "phone"}), p + ".format"),
            (with_field({"type": "string", "default": 5}), p + ".default"),
            (with_field({"type": "string", "format": "email", "default": "nope"}), p + ".default"),
            (with_field({"type": "string", "maxLength": 2, "default": "abc"}), p + ".default"),
            # numbers and integers
            (with_field({"type": "number", "minimum": "0"}), p + ".minimum"),
            (with_field({"type": "number", "maximum": True}), p + ".maximum"),
            (with_field({"type": "number", "minimum": 5, "maximum": 1}), p + ".minimum"),
            (with_field({"type": "number", "default": "1"}), p + ".default"),
            (with_field({"type": "number", "maximum": 1, "default": 2}), p + ".default"),
            (with_field({"type": "integer", "minimum": "a"}), p + ".minimum"),
            (with_field({"type": "integer", "default": 1.5}), p + ".default"),
            # booleans
            (with_field({"type": "boolean", "default": "yes"}), p + ".default"),
            # single choices
            (with_field({"type": "string", "enum": []}), p + ".enum"),
            (with_field({"type": "string", "enum": [1, 2]}), p + ".enum"),
            (with_field({"type": "string", "enum": "a"}), p + ".enum"),
            (with_field(dict(enum, enumNames=["A"])), p + ".enumNames"),
            (with_field(dict(enum, enumNames=["A", 2])), p + ".enumNames"),
            (with_field({"type": "string", "enum": ["a", "a"]}), p),
            (with_field({"type": "string", "enum": ["a", ""]}), p),
            (with_field({"type": "string", "oneOf": []}), p + ".oneOf"),
            (with_field({"type": "string", "oneOf": [{"title": "A"}]}), p + ".oneOf[0].const"),
            (with_field({"type": "string", "oneOf": ["a"]}), p + ".oneOf[0]"),
            (with_field({"type": "string", "oneOf": [{"const": "a", "title": 1}]}),
             p + ".oneOf[0].title"),
            (with_field(dict(enum, default="c")), p + ".default"),
            # multi-selects
            (with_field({"type": "array"}), p + ".items"),
            (with_field({"type": "array", "items": {"type": "string"}}), p + ".items"),
            (with_field({"type": "array", "items": {"type": "string", "enum": []}}),
             p + ".items.enum"),
            (with_field({"type": "array", "items": {"anyOf": [{"const": 1}]}}),
             p + ".items.anyOf[0].const"),
            (with_field(dict(multi, maxItems=3)), p + ".maxItems"),
            (with_field(dict(multi, minItems=-1)), p + ".minItems"),
            (with_field(dict(multi, minItems=2, maxItems=1)), p + ".minItems"),
            (with_field(dict(multi, default=["z"])), p + ".default"),
            (with_field(dict(multi, default="a")), p + ".default"),
        ]
        for schema, field in cases:
            with self.subTest(schema=schema):
                r = self.server.call("POST", "/v1/requests",
                                     {"action": "deploy_production", "title": "Deploy",
                                      "response_schema": schema}, token=self.agent)
                self.assert_invalid(r, field)
        listed = self.server.call("GET", "/v1/requests?limit=100")
        self.assertEqual(listed.status, 200, listed)
        self.assertEqual(listed.json["requests"], [])

    def test_a_schema_that_is_not_an_object_is_malformed_and_creates_nothing(self):
        # A member of the wrong JSON type is a shape error: 400 malformed, as everywhere.
        for value in ("object", ["type", "object"], 1, True):
            with self.subTest(value=value):
                r = self.server.call("POST", "/v1/requests",
                                     {"action": "deploy_production", "title": "Deploy",
                                      "response_schema": value}, token=self.agent)
                self.assertEqual(r.status, 400, r)
                self.assertEqual(r.json["error"]["code"], "malformed", r)
                self.assertIn("response_schema", r.json["error"]["message"], r)
        listed = self.server.call("GET", "/v1/requests?limit=100")
        self.assertEqual(listed.status, 200, listed)
        self.assertEqual(listed.json["requests"], [])


class DecisionTest(StructuredTestCase):
    def test_a_valid_response_is_stored_and_shown_everywhere(self):
        req = self.create()
        decided = self.decided(req["id"], {"choice": "approve", "comment": "go",
                                           "response": VALID})
        self.assertEqual(decided["status"], "approved")
        self.assertEqual(decided["response"], VALID)
        got = self.server.get_request(req["id"], token=self.agent)
        self.assertEqual(got["response"], VALID)
        self.assertIsInstance(got["response"]["replicas"], int)
        self.assertIsInstance(got["response"]["ratio"], float)
        self.assertIs(got["response"]["notify"], True)
        [decision] = got["decisions"]
        self.assertEqual((decision["by"], decision["choice"]), ("alice", "approve"))
        self.assertEqual(decision["response"], VALID)
        [event] = [e for e in self.server.audit(req["id"]) if e["type"] == "decision.recorded"]
        self.assertEqual(event["data"]["response"], VALID)
        jwks = self.server.call("GET", "/v1/keys", token=None).json
        claims = verify_receipt(got["receipt"], jwks, now=0)
        self.assertEqual(claims["response_sha256"], response_sha256(VALID))
        self.assertEqual(claims["arguments_sha256"], got["arguments_sha256"])
        # The list shows the same as the single read.
        listed = self.server.call("GET", "/v1/requests?limit=10", token=self.agent).json
        self.assertEqual(listed["requests"][0]["response"], VALID)

    def test_the_response_survives_a_restart(self):
        req = self.create()
        self.decided(req["id"], {"choice": "approve", "response": VALID})
        self.server.stop()
        self.server.start()
        got = self.server.get_request(req["id"])
        self.assertEqual(got["response"], VALID)
        self.assertEqual(got["response_schema"], SCHEMA)
        self.assertEqual(receipt_claims(got["receipt"])["response_sha256"],
                         response_sha256(VALID))

    def test_only_the_required_fields_are_enough(self):
        req = self.create()
        decided = self.decided(req["id"], {"choice": "approve", "response": MINIMAL})
        self.assertEqual(decided["response"], MINIMAL)
        self.assertEqual(receipt_claims(decided["receipt"])["response_sha256"],
                         response_sha256(MINIMAL))

    def test_a_receipt_without_a_schema_has_no_response_claim(self):
        req = self.create(schema=None)
        decided = self.decided(req["id"], {"choice": "approve"})
        self.assertIsNone(decided.get("response_schema"))
        self.assertNotIn("response_sha256", receipt_claims(decided["receipt"]))

    def test_the_quorum_approval_that_resolves_carries_the_response(self):
        req = self.create(quorum=2)
        first = dict(MINIMAL, reason="first look")
        second = dict(MINIMAL, reason="second look", replicas=5)
        pending = self.decided(req["id"], {"choice": "approve", "response": first})
        self.assertEqual(pending["status"], "pending")
        self.assertIsNone(pending["response"])
        self.assertEqual(pending["decisions"][0]["response"], first)
        done = self.decided(req["id"], {"choice": "approve", "response": second}, self.bob)
        self.assertEqual(done["status"], "approved")
        self.assertEqual(done["response"], second)
        self.assertEqual([d["response"] for d in done["decisions"]], [first, second])
        self.assertEqual(receipt_claims(done["receipt"])["response_sha256"],
                         response_sha256(second))

    def test_a_missing_required_field_is_named(self):
        req = self.create()
        for name in SCHEMA["required"]:
            with self.subTest(missing=name):
                response = {k: v for k, v in MINIMAL.items() if k != name}
                self.assert_refused(req["id"], response, "response." + name)
        # null is no value either
        for name in SCHEMA["required"]:
            with self.subTest(null=name):
                r = self.decide(req["id"], {"choice": "approve",
                                            "response": dict(MINIMAL, **{name: None})})
                self.assert_invalid(r, "response." + name)
                self.assertIn("is required", r.json["error"]["message"], r)
                self.assert_untouched(req["id"])
        # an approval with no response at all misses the first required field
        self.assert_invalid(self.decide(req["id"], {"choice": "approve"}), "response.env")
        self.assert_invalid(self.decide(req["id"], {"choice": "approve", "response": {}}),
                            "response.env")
        self.assert_untouched(req["id"])
        self.decided(req["id"], {"choice": "approve", "response": MINIMAL})

    def test_a_value_of_the_wrong_type_is_named(self):
        req = self.create()
        cases = [
            ("env", 1), ("env", ["prod"]), ("region", True),
            ("replicas", "4"), ("replicas", True), ("replicas", [4]),
            ("ratio", "0.5"), ("ratio", {"v": 1}),
            ("notify", "true"), ("notify", 1), ("notify", "yes"),
            ("reason", 12345), ("reason", {"text": "x"}),
            ("contact", 1), ("window", 20261224),
            ("checks", "smoke"), ("checks", [1]), ("checks", {"smoke": True}),
            ("teams", "sre"),
        ]
        for name, value in cases:
            with self.subTest(field=name, value=value):
                self.assert_refused(req["id"], dict(MINIMAL, **{name: value}), "response." + name)
        self.decided(req["id"], {"choice": "approve", "response": VALID})

    def test_values_out_of_bounds_or_options_are_named(self):
        req = self.create()
        cases = [
            ("env", "dev"),                                  # not among enum
            ("env", "Production"),                           # a title is not a value
            ("region", "asia"),                              # not among oneOf
            ("checks", ["smoke", "chaos"]),                  # an unknown item
            ("checks", ["smoke", "load", "security"]),       # more than maxItems
            ("checks", []),                                  # fewer than minItems
            ("checks", ["smoke", "smoke"]),                  # the same item twice
            ("teams", ["ops"]),                              # not among anyOf
            ("replicas", 1.5),                               # an integer field
            ("replicas", 0), ("replicas", 11),               # outside minimum / maximum
            ("ratio", 1.5), ("ratio", -0.01),
            ("reason", "x" * 81),                            # over maxLength
            ("reason", "ab"),                                # under minLength
            ("contact", "not-an-email"), ("contact", "a@localhost"), ("contact", "@x.org"),
            ("runbook", "no scheme here"), ("runbook", "/relative/path"),
            ("window", "2026-02-30"), ("window", "2026-13-01"), ("window", "24/12/2026"),
            ("window", "2027-02-29"),
            ("start", "2026-12-24 10:00"), ("start", "2026-12-24T25:00:00Z"),
            ("start", "2026-12-24"),
        ]
        for name, value in cases:
            with self.subTest(field=name, value=value):
                self.assert_refused(req["id"], dict(MINIMAL, **{name: value}), "response." + name)
        # The edges themselves are allowed; lengths are counted in characters, not bytes.
        edge = dict(MINIMAL, replicas=10, ratio=0, reason="\u00e9" * 80, checks=["load", "smoke"],
                    window="2028-02-29", start="2026-12-24T10:00:00.5+01:00")
        self.assertEqual(self.decided(req["id"], {"choice": "approve", "response": edge})
                         ["response"], edge)

    def test_an_integer_written_as_a_whole_float_is_an_integer(self):
        req = self.create()
        decided = self.decided(req["id"], {"choice": "approve",
                                           "response": dict(MINIMAL, replicas=4.0)})
        self.assertEqual(decided["response"]["replicas"], 4)

    def test_null_is_not_a_value_of_an_optional_field(self):
        # null is of none of the field types: an unanswered optional field is left out, and a
        # null is refused rather than recorded (and hashed into the receipt) as an answer.
        req = self.create()
        optional = [name for name in SCHEMA["properties"] if name not in SCHEMA["required"]]
        for name in optional:
            with self.subTest(null=name):
                r = self.decide(req["id"], {"choice": "approve",
                                            "response": dict(MINIMAL, **{name: None})})
                self.assert_invalid(r, "response." + name)
                self.assertIn("must be left out, not null", r.json["error"]["message"], r)
                self.assert_untouched(req["id"])
        self.assertEqual(self.decided(req["id"], {"choice": "approve", "response": MINIMAL})
                         ["response"], MINIMAL)

    def test_an_unknown_field_is_named(self):
        req = self.create()
        self.assert_refused(req["id"], dict(MINIMAL, colour="red"), "response.colour")

    def test_a_response_that_is_not_an_object_is_malformed(self):
        # A member of the wrong JSON type is a shape error: 400 malformed, as everywhere.
        req = self.create()
        for value in ("prod", ["prod"], 1, True):
            with self.subTest(value=value):
                r = self.decide(req["id"], {"choice": "approve", "response": value})
                self.assertEqual(r.status, 400, r)
                self.assertEqual(r.json["error"]["code"], "malformed", r)
                self.assertIn("response", r.json["error"]["message"], r)
                self.assert_untouched(req["id"])

    def test_a_request_without_a_schema_refuses_a_response(self):
        req = self.create(schema=None)
        self.assertIsNone(req.get("response_schema"))
        for choice in ("approve", "deny"):
            with self.subTest(choice=choice):
                r = self.decide(req["id"], {"choice": choice, "response": {"env": "prod"}})
                self.assert_invalid(r, "response")
                got = self.server.get_request(req["id"])
                self.assertEqual((got["status"], got["decisions"]), ("pending", []))
        # An empty object is a response too.
        self.assert_invalid(self.decide(req["id"], {"choice": "approve", "response": {}}),
                            "response")
        self.assertEqual(self.decided(req["id"], {"choice": "approve"})["status"], "approved")

    def test_a_denial_needs_no_response(self):
        req = self.create()
        decided = self.decided(req["id"], {"choice": "deny", "comment": "not today"})
        self.assertEqual(decided["status"], "denied")
        self.assertIsNone(decided["response"])
        self.assertIsNone(decided["receipt"])
        [decision] = decided["decisions"]
        self.assertIsNone(decision.get("response"))
        [event] = [e for e in self.server.audit(req["id"]) if e["type"] == "decision.recorded"]
        self.assertNotIn("response", event["data"])

    def test_a_question_with_a_schema_is_answered_by_the_response_alone(self):
        req = self.create(kind="question", title="How should we roll out?")
        self.assertEqual([c["id"] for c in req["choices"]], ["answer"])
        decided = self.decided(req["id"], {"response": MINIMAL})
        self.assertEqual(decided["status"], "answered")
        self.assertEqual(decided["response"], MINIMAL)
        [decision] = decided["decisions"]
        self.assertEqual((decision["choice"], decision["response"]), ("answer", MINIMAL))
        self.assertIsNone(decided["receipt"])

    def test_a_question_with_a_schema_still_checks_the_response(self):
        req = self.create(kind="question")
        r = self.decide(req["id"], {"answer": "whatever", "response": {"env": "prod"}})
        self.assert_invalid(r, "response.replicas")
        self.assert_untouched(req["id"])
        decided = self.decided(req["id"], {"answer": "see form", "response": VALID})
        self.assertEqual((decided["answer"], decided["response"]), ("see form", VALID))

    def test_a_question_without_a_schema_still_needs_its_answer(self):
        req = self.create(schema=None, kind="question")
        r = self.decide(req["id"], {"choice": "answer"})
        self.assertEqual(r.status, 422, r)
        self.assertEqual(self.server.get_request(req["id"])["decisions"], [])

    def test_a_schema_with_nothing_required_approves_without_a_response(self):
        req = self.create(schema=with_field({"type": "string"}))
        decided = self.decided(req["id"], {"choice": "approve"})
        self.assertEqual(decided["status"], "approved")


class LinkFormTest(StructuredTestCase):
    def test_the_link_page_renders_each_control_type(self):
        req = self.create()
        body = self.page(self.mint(req["id"])).body
        self.assertIn("Your response", body)
        self.assertNotIn("<script", body)
        form = FormParser(body)
        c = form.controls

        def control(field):
            tag, attrs = c[control_id(SCHEMA, field)]
            self.assertEqual(attrs["name"], control_name(SCHEMA, field))
            return tag, attrs

        def label(field):
            return form.labels[control_id(SCHEMA, field)]

        # The controls are named by position, r.0 for the first property and so on; a
        # multi-select's options r.<i>.0, r.<i>.1, ...
        expected_names = []
        for i, (field, prop) in enumerate(SCHEMA["properties"].items()):
            if prop["type"] == "array":
                items = prop["items"]
                count = len(items.get("enum") or items.get("anyOf"))
                expected_names += [f"r.{i}.{j}" for j in range(count)]
            else:
                expected_names.append(f"r.{i}")
        self.assertEqual([n for n in form.names if n.startswith("r.")], expected_names)
        self.assertEqual(control_name(SCHEMA, "reason"), "r.5")

        # Every single control has its label, pointing at it by id.
        for field, title in (("env", "Environment"), ("region", "Region"),
                             ("replicas", "Replicas"), ("ratio", "Canary ratio"),
                             ("notify", "Page the on-call"), ("reason", "Reason"),
                             ("contact", "Contact"), ("runbook", "Runbook"),
                             ("window", "Window"), ("start", "Start"), ("notes", "Notes")):
            with self.subTest(field=field):
                control(field)
                self.assertIn(title, label(field))
        # required: on the control and in the label
        for field in ("env", "replicas", "reason"):
            self.assertIn("required", control(field)[1], field)
            self.assertIn("(required)", label(field))
        for field in ("region", "ratio", "contact", "runbook", "window", "start", "notes",
                      "notify"):
            self.assertNotIn("required", control(field)[1], field)
            self.assertNotIn("(required)", label(field))
        # single choices: a select of the titles; an optional one may be left unanswered
        tag, _ = control("env")
        self.assertEqual(tag, "select")
        # required without a default: a placeholder the browser will not submit comes first
        env = form.options[control_id(SCHEMA, "env")]
        self.assertEqual([(v, t) for v, t, _ in env],
                         [("", "Choose one"), ("staging", "Staging"), ("prod", "Production")])
        self.assertIn("disabled", env[0][2])
        self.assertEqual(control("region")[0], "select")
        region = form.options[control_id(SCHEMA, "region")]
        self.assertEqual([(v, t) for v, t, _ in region],
                         [("", "(no answer)"), ("eu", "Europe"), ("us", "United States")])
        self.assertEqual([v for v, _, a in region if "selected" in a], ["eu"])
        # numbers: typed inputs with their bounds, step and default
        tag, replicas = control("replicas")
        self.assertEqual((tag, replicas["type"]), ("input", "number"))
        self.assertEqual((replicas["min"], replicas["max"], replicas["step"], replicas["value"]),
                         ("1", "10", "1", "3"))
        tag, ratio = control("ratio")
        self.assertEqual((tag, ratio["type"], ratio["min"], ratio["max"], ratio["step"]),
                         ("input", "number", "0", "1", "any"))
        # a boolean: a checkbox, unchecked by its default
        tag, notify = control("notify")
        self.assertEqual((tag, notify["type"], notify["value"]), ("input", "checkbox", "true"))
        self.assertNotIn("checked", notify)
        # strings: typed by their format, with their lengths and help
        tag, reason = control("reason")
        self.assertEqual((tag, reason["type"], reason["minlength"], reason["maxlength"]),
                         ("input", "text", "3", "80"))
        reason_help = control_id(SCHEMA, "reason") + "-help"
        self.assertEqual(reason_help, "r-5-help")
        self.assertEqual(reason["aria-describedby"], reason_help)
        self.assertEqual(form.help[reason_help].strip(), "Why now?")
        for field, input_type in (("contact", "email"), ("runbook", "url"), ("window", "date"),
                                  ("start", "datetime-local")):
            tag, attrs = control(field)
            self.assertEqual((tag, attrs["type"]), ("input", input_type), field)
        # a date-time is typed in UTC, to the second
        self.assertEqual(control("start")[1]["step"], "1")
        self.assertIn("(UTC)", label("start"))
        for field in ("contact", "runbook", "window", "reason", "replicas"):
            self.assertNotIn("(UTC)", label(field), field)
        self.assertEqual(control("notes")[0], "textarea")
        # multi-selects: a fieldset with a legend and one labelled checkbox per option
        self.assertEqual(len(form.fieldsets), 2)
        checks, teams = form.fieldsets
        self.assertIn("Checks", checks["legend"])
        self.assertIn("(required)", checks["legend"])
        self.assertIn("choose 1 to 2", checks["legend"])
        self.assertIn("Teams", teams["legend"])
        self.assertNotIn("(required)", teams["legend"])
        for fieldset, field, options in ((checks, "checks", [("smoke", "smoke"), ("load", "load"),
                                                            ("security", "security")]),
                                         (teams, "teams", [("sre", "SRE"), ("db", "Databases")])):
            got = []
            for i, option_id in enumerate(fieldset["controls"]):
                self.assertEqual(option_id, control_id(SCHEMA, field, i))
                tag, attrs = c[option_id]
                self.assertEqual((tag, attrs["type"]), ("input", "checkbox"))
                self.assertEqual(attrs["name"], control_name(SCHEMA, field, i))
                self.assertNotIn("checked", attrs)
                got.append((attrs["value"], form.labels[option_id].strip()))
            self.assertEqual(got, options)
        # the answer box of an approval is the comment, still optional
        self.assertIn('name="comment"', body)

    def test_defaults_are_filled_in(self):
        schema = {"type": "object", "properties": {
            "on": {"type": "boolean", "default": True},
            "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b", "c"]},
                     "default": ["a", "c"]},
            "who": {"type": "string", "maxLength": 50, "default": "ops <team>"},
            "when": {"type": "string", "format": "date-time",
                     "default": "2026-12-03T10:00:00Z"},
        }}
        req = self.create(schema)
        form = FormParser(self.page(self.mint(req["id"])).body)
        self.assertIn("checked", form.controls[control_id(schema, "on")][1])
        checked = [form.controls[i][1]["value"] for i in form.fieldsets[0]["controls"]
                   if "checked" in form.controls[i][1]]
        self.assertEqual(checked, ["a", "c"])
        self.assertEqual(form.controls[control_id(schema, "who")][1]["value"], "ops <team>")
        # a date-time default is shown in UTC, to the second
        when = form.controls[control_id(schema, "when")][1]
        self.assertEqual((when["type"], when["value"], when["step"]),
                         ("datetime-local", "2026-12-03T10:00:00", "1"))
        self.assertIn("(UTC)", form.labels[control_id(schema, "when")])

    def test_an_untouched_date_time_default_records_the_same_instant(self):
        # A datetime-local input has no offset: the default is shown in the time the form
        # reads it back in (UTC), so posting the form unchanged records the same instant.
        schema = with_field({"type": "string", "format": "date-time",
                             "default": "2026-12-03T10:00:00+02:00"}, name="start")
        req = self.create(schema)
        path = self.mint(req["id"])
        form = FormParser(self.page(path).body)
        start = form.controls[control_id(schema, "start")][1]
        self.assertEqual((start["value"], start["step"]), ("2026-12-03T08:00:00", "1"))
        self.assertIn("(UTC)", form.labels[control_id(schema, "start")])
        r = self.post_form(path, form_fields(schema, {"start": start["value"]}))
        self.assert_page(r, 200, "Your decision was recorded")
        self.assertEqual(self.server.get_request(req["id"])["response"],
                         {"start": "2026-12-03T08:00:00Z"})

    def test_control_names_and_ids_are_unique_on_the_page(self):
        # Field names may hold "." and "-": the controls of one field must never take the
        # name or id of another's, or a browser posts the same name twice.
        schema = {"type": "object", "properties": {
            "a": {"type": "array", "items": {"type": "string", "enum": ["x", "y"]}},
            "a.0": {"type": "string", "maxLength": 20},
            "b": {"type": "string", "description": "help for b", "maxLength": 20},
            "b-help": {"type": "string", "maxLength": 20},
        }}
        req = self.create(schema)
        path = self.mint(req["id"])
        form = FormParser(self.page(path).body)
        twice = sorted({n for n in form.names if form.names.count(n) > 1})
        twice_ids = sorted({i for i in form.ids if form.ids.count(i) > 1})
        self.assertEqual((twice, twice_ids), ([], []),
                         f"names used twice: {twice}; ids used twice: {twice_ids}")
        self.assertEqual([n for n in form.names if n.startswith("r.")],
                         ["r.0.0", "r.0.1", "r.1", "r.2", "r.3"])
        self.assertEqual(form.controls["r-2"][1]["aria-describedby"], "r-2-help")
        self.assertEqual(form.help["r-2-help"].strip(), "help for b")
        self.assertNotIn("aria-describedby", form.controls["r-3"][1])
        # and the form is answered field by field
        r = self.post_form(path, form_fields(schema, {("a", 1): "y", "a.0": "typed",
                                                      "b": "bee", "b-help": "not help"}))
        self.assert_page(r, 200, "Your decision was recorded")
        self.assertEqual(self.server.get_request(req["id"])["response"],
                         {"a": ["y"], "a.0": "typed", "b": "bee", "b-help": "not help"})

    def test_a_field_named_like_a_multi_select_option_can_be_answered_by_link(self):
        # The same collision seen from the person filling the form: ticking option x of "a"
        # and typing into "a.0" must record both.
        schema = {"type": "object", "properties": {
            "a": {"type": "array", "items": {"type": "string", "enum": ["x", "y"]}},
            "a.0": {"type": "string", "maxLength": 20},
        }}
        req = self.create(schema)
        path = self.mint(req["id"])
        fields = form_fields(schema, [(("a", 0), "x"), ("a.0", "typed")])
        self.assertEqual(fields, [("r.0.0", "x"), ("r.1", "typed")])
        r = self.post_form(path, fields)
        self.assert_page(r, 200, "Your decision was recorded")
        self.assertEqual(self.server.get_request(req["id"])["response"],
                         {"a": ["x"], "a.0": "typed"})

    def test_posting_the_form_records_the_typed_response(self):
        req = self.create()
        path = self.mint(req["id"])
        r = self.post_form(path, form_fields(SCHEMA, {
            "env": "prod", "region": "", "replicas": "4", "ratio": "0.5",
            "reason": "hotfix", "contact": "", "runbook": "", "window": "2026-12-24",
            "start": "2026-12-24T10:30", ("checks", 0): "smoke", ("checks", 2): "security",
            "notes": "",
        }, comment="looks fine"))
        self.assert_page(r, 200, "Your decision was recorded", "The request is approved")
        expected = {"env": "prod", "replicas": 4, "ratio": 0.5, "notify": False,
                    "reason": "hotfix", "window": "2026-12-24", "start": "2026-12-24T10:30:00Z",
                    "checks": ["smoke", "security"]}
        got = self.server.get_request(req["id"])
        self.assertEqual(got["status"], "approved")
        self.assertEqual(got["response"], expected)
        self.assertIs(type(got["response"]["replicas"]), int)
        self.assertIs(got["response"]["notify"], False)
        [decision] = got["decisions"]
        self.assertEqual((decision["by"], decision["comment"], decision["response"]),
                         ("alice", "looks fine", expected))
        [event] = [e for e in self.server.audit(req["id"]) if e["type"] == "decision.recorded"]
        self.assertEqual(event["data"]["response"], expected)
        # The hash is of what the form made: 4 an integer, 0.5 a double.
        self.assertEqual(receipt_claims(got["receipt"])["response_sha256"],
                         response_sha256(expected))

    def test_a_checked_box_and_the_other_options_of_the_form(self):
        req = self.create()
        r = self.post_form(self.mint(req["id"]), form_fields(SCHEMA, {
            "env": "staging", "region": "eu", "replicas": "10", "notify": "true",
            "reason": "caf\u00e9 run", "contact": "ops@example.com",
            "runbook": "https://example.com/rb", "start": "2026-12-24T10:30:15",
            ("checks", 1): "load", ("teams", 0): "sre", ("teams", 1): "db", "notes": "a\r\nb",
        }))
        self.assert_page(r, 200, "Your decision was recorded")
        got = self.server.get_request(req["id"])["response"]
        self.assertEqual(got, {"env": "staging", "region": "eu", "replicas": 10, "notify": True,
                               "reason": "caf\u00e9 run", "contact": "ops@example.com",
                               "runbook": "https://example.com/rb",
                               "start": "2026-12-24T10:30:15Z", "checks": ["load"],
                               "teams": ["sre", "db"], "notes": "a\r\nb"})

    def test_a_bad_form_value_is_a_422_page_naming_the_field(self):
        req = self.create()
        path = self.mint(req["id"])
        good = {"env": "prod", "replicas": "4", "reason": "hotfix", ("checks", 0): "smoke"}
        cases = [
            ({"replicas": "four"}, "response.replicas"),
            ({"replicas": "1.5"}, "response.replicas"),
            ({"replicas": "11"}, "response.replicas"),
            ({"ratio": "half"}, "response.ratio"),
            ({"ratio": "2"}, "response.ratio"),
            ({"notify": "maybe"}, "response.notify"),
            ({"env": "dev"}, "response.env"),
            ({("checks", 0): "bogus"}, "response.checks"),
            ({("checks", 1): "load", ("checks", 2): "security"}, "response.checks"),
            ({"contact": "nope"}, "response.contact"),
            ({"window": "2026-02-30"}, "response.window"),
            ({"reason": "x" * 81}, "response.reason"),
            ({"reason": ""}, "response.reason"),
            ({("checks", 0): None}, "response.checks"),  # no option ticked
        ]
        for change, field in cases:
            with self.subTest(change=change):
                answers = {k: v for k, v in {**good, **change}.items() if v is not None}
                r = self.post_form(path, form_fields(SCHEMA, answers))
                self.assert_page(r, 422, "Your decision was not recorded", field)
                self.assertNotIn("Traceback", r.body)
                self.assert_untouched(req["id"])
        r = self.post_form(path, form_fields(SCHEMA, good))
        self.assert_page(r, 200, "Your decision was recorded")
        self.assertEqual(self.server.get_request(req["id"])["response"],
                         {"env": "prod", "replicas": 4, "notify": False, "reason": "hotfix",
                          "checks": ["smoke"]})

    def test_a_deny_link_has_no_form_and_needs_no_response(self):
        req = self.create()
        path = self.mint(req["id"], "deny")
        body = self.page(path).body
        self.assertNotIn('name="r.', body)
        self.assertNotIn("Your response", body)
        r = self.post_form(path, form_fields(SCHEMA, {"env": "dev"}, comment="no"))
        self.assert_page(r, 200, "The request is denied")
        got = self.server.get_request(req["id"])
        self.assertEqual(got["status"], "denied")
        self.assertIsNone(got["response"])
        self.assertIsNone(got["decisions"][0].get("response"))

    def test_a_question_link_with_a_schema_is_answered_by_the_form(self):
        req = self.create(kind="question", title="How should we roll out?")
        path = self.mint(req["id"], "answer")
        body = self.page(path).body
        form = FormParser(body)
        self.assertIn(control_id(SCHEMA, "env"), form.controls)
        # the text answer is optional now that the form carries the answer
        self.assertNotIn("required", form.controls["answer"][1])
        self.assertIn("optional", form.labels["answer"])
        r = self.post_form(path, form_fields(SCHEMA, {"env": "prod", "replicas": "2",
                                                      "reason": "routine",
                                                      ("checks", 0): "smoke"}))
        self.assert_page(r, 200, "The request is answered")
        got = self.server.get_request(req["id"])
        self.assertEqual(got["status"], "answered")
        self.assertEqual(got["response"], {"env": "prod", "replicas": 2, "notify": False,
                                           "reason": "routine", "checks": ["smoke"]})

    def test_a_link_without_a_schema_shows_no_form(self):
        req = self.create(schema=None)
        body = self.page(self.mint(req["id"])).body
        self.assertNotIn('name="r.', body)
        self.assertNotIn("Your response", body)


class CliTest(StructuredTestCase):
    def test_decide_with_typed_fields(self):
        req = self.create()
        decided = self.cli_json(
            "decide", req["id"], "--choice", "approve", "--field", "env=prod",
            "--field", "region=Europe", "--field", "replicas=7", "--field", "ratio=0.25",
            "--field", "notify=yes", "--field", "reason=needs=equals sign",
            "--field", "checks=smoke,security", "--field", "teams=sre", "--field", "teams=db",
            "--field", "window=2026-12-24")
        self.assertEqual(decided["status"], "approved")
        expected = {"env": "prod", "region": "eu", "replicas": 7, "ratio": 0.25, "notify": True,
                    "reason": "needs=equals sign", "checks": ["smoke", "security"],
                    "teams": ["sre", "db"], "window": "2026-12-24"}
        got = self.server.get_request(req["id"])
        self.assertEqual(got["response"], expected)
        self.assertIs(type(got["response"]["replicas"]), int)
        self.assertEqual(receipt_claims(got["receipt"])["response_sha256"],
                         response_sha256(expected))

    def test_booleans_take_true_false_yes_no(self):
        for text, value in (("true", True), ("false", False), ("yes", True), ("no", False)):
            with self.subTest(text=text):
                req = self.create()
                self.cli_json("approve", req["id"], "--field", "env=staging",
                              "--field", "replicas=1", "--field", "reason=abc",
                              "--field", "checks=load", "--field", "notify=" + text)
                self.assertIs(self.server.get_request(req["id"])["response"]["notify"], value)

    def test_approve_with_fields(self):
        req = self.create()
        r = self.cli("approve", req["id"], "--field", "env=prod", "--field", "replicas=3",
                     "--field", "reason=ship it", "--field", "checks=load")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(req["id"] + " approved", r.stdout)
        self.assertEqual(self.server.get_request(req["id"])["response"],
                         {"env": "prod", "replicas": 3, "reason": "ship it", "checks": ["load"]})

    def test_decide_with_a_json_response(self):
        req = self.create()
        decided = self.cli_json("decide", req["id"], "--choice", "approve",
                                "--response", json.dumps(VALID))
        self.assertEqual(decided["response"], VALID)

    def test_a_question_answered_with_fields_only(self):
        req = self.create(kind="question")
        r = self.cli("decide", req["id"], "--field", "env=prod", "--field", "replicas=2",
                     "--field", "reason=routine", "--field", "checks=smoke")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = self.server.get_request(req["id"])
        self.assertEqual(got["status"], "answered")
        self.assertEqual(got["response"], {"env": "prod", "replicas": 2, "reason": "routine",
                                           "checks": ["smoke"]})

    def test_an_unknown_field_is_an_error_naming_it(self):
        req = self.create()
        r = self.cli("decide", req["id"], "--choice", "approve", "--field", "env=prod",
                     "--field", "colour=red")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("colour", r.stderr)
        self.assertIn("replicas", r.stderr)  # the form's fields are listed
        self.assert_untouched(req["id"])

    def test_a_value_not_of_its_type_is_an_error_naming_the_field(self):
        req = self.create()
        for field in ("replicas=four", "replicas=1.5", "notify=maybe", "env=dev",
                      "checks=smoke,chaos", "ratio=lots"):
            with self.subTest(field=field):
                r = self.cli("decide", req["id"], "--choice", "approve", "--field", field)
                self.assertEqual(r.returncode, 1, r)
                self.assertIn(field.split("=")[0], r.stderr)
                self.assert_untouched(req["id"])

    def test_the_server_refusal_names_the_field(self):
        req = self.create()
        r = self.cli("approve", req["id"], "--field", "env=prod", "--field", "replicas=3")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("response.reason", r.stderr)
        r = self.cli("approve", req["id"], "--response", json.dumps(dict(MINIMAL, replicas=99)))
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("response.replicas", r.stderr)
        self.assert_untouched(req["id"])

    def test_fields_on_a_request_without_a_schema_are_refused(self):
        req = self.create(schema=None)
        r = self.cli("approve", req["id"], "--field", "env=prod")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("response_schema", r.stderr)
        r = self.cli("approve", req["id"], "--response", "{}")
        self.assertEqual(r.returncode, 1, r)
        got = self.server.get_request(req["id"])
        self.assertEqual((got["status"], got["decisions"]), ("pending", []))

    def test_field_and_response_together_is_a_usage_error(self):
        req = self.create()
        r = self.cli("approve", req["id"], "--field", "env=prod", "--response", "{}")
        self.assertNotEqual(r.returncode, 0, r)
        self.assertIn("--response", r.stderr)
        self.assert_untouched(req["id"])


if __name__ == "__main__":
    unittest.main()
