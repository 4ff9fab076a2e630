"""README.md's "A five-minute tour", run as written against a real server.

Every ```sh block of the tour (up to the next "## " heading) runs, in order, in ONE bash
process, so the variables a block exports are there for the next, from a scratch copy of the
repository root: `build` there is the directory of the binary under test, `data` the server's
data directory (where the tour reads admin.token), COUNTERSIGN_URL and CS point at the server,
and every `http://127.0.0.1:7400` in a block is the server's URL. `./deploy.sh` is a stub that
checks its receipt as the README says a script can; `claude` is a stub that checks what it is
given. Every block must exit 0 (a block that shows a failure ends with `; echo $?`).

The output sample that follows a block (```json or a plain ```, possibly after some prose) is
compared with what the block printed, stdout and stderr together:

- JSON samples: every value the block printed, in order, has the sample's keys (recursively)
  and value types; strings match after the normalisation below. A sample abridged with `...`
  (or `…`) in an object or array needs only the keys and elements it shows; an object or
  array without `...` must have exactly the keys (and number of elements) it shows. A `...`
  inside a string stands for any text ("658b79f1..." is any hash).
- Text samples: line for line, after ids (req_…, tok_…), timestamps, hashes, secrets,
  receipts and numbers are replaced by placeholders and runs of spaces by one; `...` (or `…`)
  in a line stands for any text, and a line that starts and ends with one (`...`,
  `...the output of ./deploy.sh...`) for any number of lines. A line starting with `{` is
  compared as JSON, as above.

A block that needs someone else to act at the same time is marked with an HTML comment on the
line before it:

- `<!-- tour: background -->`: the block runs in the background; the tour goes on once it has
  printed its first line (at once when it has no sample of its own, e.g. a long-poll that
  prints only when it returns), and it is waited for after the next block. Its output must
  match its own sample or, when it has none, the next block's.
- `<!-- tour: skip -->`: the block is not run (a script fragment that would wait for a person
  nobody plays).

The comparison itself is tested on samples broken on purpose (ShapeRulesTest), so a drifting
README fails.
"""

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import unittest

import harness

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
README = os.path.join(REPO, "README.md")
BIN_DIR = os.path.dirname(os.path.abspath(harness.BIN))
TOUR_HEADING = "## A five-minute tour"
DOC_URL = "http://127.0.0.1:7400"
RUN_TIMEOUT = 180  # seconds; a safety net so a block waiting for nobody fails the test
FIRST_LINE_POLLS = 1200  # × 0.05 s: how long a background block may take to print its first line

MARKER = re.compile(r"^<!--\s*tour:\s*(background|skip)\s*-->$")
FENCE = re.compile(r"^```(\w*)\s*$")
ELISION = re.compile(r"\.\.\.|…")
ELISION_LINE = re.compile(r"^\s*(\.\.\.|…)(.*(\.\.\.|…))?\s*$")


# -- the tour ------------------------------------------------------------------------------------

class Step:
    """One ```sh block of the tour and the sample its output is compared with."""

    def __init__(self, index, line, commands, marker):
        self.index = index
        self.line = line  # README line of the block's first command, for messages
        self.commands = commands
        self.marker = marker  # None, "background" or "skip"
        self.sample = None  # (kind, text, line): kind "json" or "text"

    def __repr__(self):
        return f"README.md:{self.line} ({self.commands.splitlines()[0]})"


def tour_steps(readme_text):
    """The tour's ```sh blocks, each with its marker and its output sample."""
    lines = readme_text.splitlines()
    try:
        start = lines.index(TOUR_HEADING)
    except ValueError:
        raise AssertionError(f"README.md has no heading {TOUR_HEADING!r}")
    steps = []
    marker = None
    i = start + 1
    while i < len(lines) and not lines[i].startswith("## "):
        line = lines[i]
        m = MARKER.match(line.strip())
        if m:
            marker = m.group(1)
            i += 1
            continue
        fence = FENCE.match(line)
        if not fence:
            if line.strip():
                marker = None  # a marker belongs to the block right after it
            i += 1
            continue
        lang = fence.group(1)
        end = i + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        body = "\n".join(lines[i + 1:end])
        if lang == "sh":
            steps.append(Step(len(steps), i + 2, body, marker))
        elif lang in ("json", "", "text"):
            if not steps or steps[-1].sample is not None:
                raise AssertionError(f"README.md:{i + 1}: an output sample with no ```sh block "
                                     "of its own before it")
            steps[-1].sample = ("json" if lang == "json" else "text", body, i + 2)
        elif marker:
            raise AssertionError(f"README.md:{i + 1}: a tour marker before a ```{lang} block")
        marker = None
        i = end + 1
    return steps


# -- samples abridged with "..." -----------------------------------------------------------------

class Elided:
    """A `...` where a value is left out: anything matches it."""

    def __repr__(self):
        return "..."


class SampleObject(dict):
    abridged = False


class SampleArray(list):
    abridged = False


class SampleParser:
    """JSON, plus `...`/`…` for members, elements or values left out."""

    NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")

    def __init__(self, text):
        self.text = text
        self.pos = 0

    def values(self):
        out = []
        while self._skip() < len(self.text):
            out.append(self._value())
        return out

    def _skip(self):
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1
        return self.pos

    def _error(self, what):
        line = self.text.count("\n", 0, self.pos) + 1
        raise ValueError(f"sample line {line}: {what} at {self.text[self.pos:self.pos + 30]!r}")

    def _elision(self):
        self._skip()
        m = ELISION.match(self.text, self.pos)
        if m:
            self.pos = m.end()
        return bool(m)

    def _value(self):
        self._skip()
        if self._elision():
            return Elided()
        c = self.text[self.pos:self.pos + 1]
        if c == "{":
            return self._container("}", SampleObject())
        if c == "[":
            return self._container("]", SampleArray())
        if c == '"':
            value, self.pos = json.decoder.scanstring(self.text, self.pos + 1)
            return value
        for word, value in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return value
        m = self.NUMBER.match(self.text, self.pos)
        if not m:
            self._error("not a value")
        self.pos = m.end()
        return float(m.group()) if m.group(1) or m.group(2) else int(m.group())

    def _container(self, close, out):
        self.pos += 1
        while True:
            self._skip()
            if self.text.startswith(close, self.pos):
                self.pos += 1
                return out
            if self._elision():
                out.abridged = True
            elif isinstance(out, dict):
                key = self._value()
                if not isinstance(key, str):
                    self._error("an object key that is not a string")
                self._skip()
                if not self.text.startswith(":", self.pos):
                    self._error("no ':' after a key")
                self.pos += 1
                out[key] = self._value()
            else:
                out.append(self._value())
            self._skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
            elif not self.text.startswith(close, self.pos):
                self._error(f"no ',' or '{close}'")


def real_json_values(text):
    """Every JSON value in `text`, which may run them together (`curl -s` ends none with a
    newline)."""
    decoder = json.JSONDecoder()
    values, pos = [], 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if pos == len(text):
            return values
        try:
            value, pos = decoder.raw_decode(text, pos)
        except ValueError as e:
            raise AssertionError(f"not JSON: {e}: {text[pos:pos + 200]!r}")
        values.append(value)


# -- comparing -----------------------------------------------------------------------------------

PLACEHOLDERS = [
    (re.compile(r"\beyJ[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*){0,2}"), "JWS"),  # a receipt
    (re.compile(r"\bcs_[A-Za-z0-9_-]+"), "cs_SECRET"),
    (re.compile(r"\b([a-z]+)_[0-9A-HJKMNP-TV-Z]{26}\b"), r"\1_ID"),
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?Z?"), "TIME"),
    (re.compile(r"\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b"), "HASH"),
    (re.compile(r"\d+"), "N"),
    (re.compile(r"[ \t]+"), " "),
]


def normalise(text):
    for pattern, placeholder in PLACEHOLDERS:
        text = pattern.sub(placeholder, text)
    return text.strip()


def text_matches(documented, real):
    """Whether `real` reads as `documented` after normalising, `...` standing for any text."""
    parts = [re.escape(normalise(part)) for part in ELISION.split(documented)]
    return re.fullmatch(".*".join(parts), normalise(real)) is not None


def json_type(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "object" if isinstance(value, dict) else "array"


def compare_json(documented, real, path="$"):
    """Differences between a sample value and a real one, as a list of messages."""
    if isinstance(documented, Elided):
        return []
    if json_type(documented) != json_type(real):
        return [f"{path}: the README shows {json_type(documented)} {short(documented)}, "
                f"the server gave {json_type(real)} {short(real)}"]
    problems = []
    if isinstance(documented, dict):
        missing = [k for k in documented if k not in real]
        if missing:
            problems.append(f"{path}: the README shows {missing}, which the answer lacks")
        extra = [k for k in real if k not in documented]
        if extra and not getattr(documented, "abridged", False):
            problems.append(f"{path}: the answer has {extra}, which the README does not show "
                            "(add them, or abridge the sample with ...)")
        for key, value in documented.items():
            if key in real:
                problems += compare_json(value, real[key], f"{path}.{key}")
    elif isinstance(documented, list):
        abridged = getattr(documented, "abridged", False)
        if len(real) < len(documented) or (not abridged and len(real) != len(documented)):
            problems.append(f"{path}: the README shows {len(documented)} elements, the answer "
                            f"has {len(real)}")
        for i, (d, r) in enumerate(zip(documented, real)):
            problems += compare_json(d, r, f"{path}[{i}]")
    elif isinstance(documented, str) and not text_matches(documented, real):
        problems.append(f"{path}: the README shows {documented!r}, the server gave {real!r}")
    return problems


def short(value):
    text = json.dumps(value) if not isinstance(value, (Elided, SampleObject, SampleArray)) \
        else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def compare_json_sample(sample, output):
    try:
        documented = SampleParser(sample).values()
    except ValueError as e:
        return [f"the sample is not JSON (with ...): {e}"]
    try:
        real = real_json_values(output)
    except AssertionError as e:
        return [str(e)]
    if len(documented) != len(real):
        return [f"the README shows {len(documented)} JSON values, the block printed {len(real)}"]
    problems = []
    for i, (d, r) in enumerate(zip(documented, real)):
        problems += compare_json(d, r, f"value {i + 1}")
    return problems


def line_problems(documented, real):
    if documented.lstrip().startswith("{"):
        try:
            real_values = real_json_values(real)
        except AssertionError as e:
            return [str(e)]
        return compare_json_sample(documented, real) if len(real_values) == 1 else [
            f"the README shows a JSON line, the block printed {real!r}"]
    if text_matches(documented, real):
        return []
    return [f"the README shows {documented!r}, the block printed {real!r}"]


def compare_text_sample(sample, output):
    """Line for line; a line that is only an elision takes any number of real lines."""
    documented = sample.rstrip("\n").splitlines()
    real = output.replace("\r\n", "\n").rstrip("\n").splitlines()

    def match(d, r):
        if d == len(documented):
            return [] if r == len(real) else [
                f"the block printed more lines than the README shows, from {real[r]!r}"]
        if ELISION_LINE.match(documented[d]):
            best = None
            for skip in range(r, len(real) + 1):
                problems = match(d + 1, skip)
                if not problems:
                    return []
                best = best or problems
            return best
        if r == len(real):
            return [f"the README shows {documented[d]!r}, the block printed nothing more"]
        problems = line_problems(documented[d], real[r])
        return problems or match(d + 1, r + 1)

    return match(0, 0)


def compare_sample(kind, sample, output):
    if kind == "json":
        return compare_json_sample(sample, output)
    return compare_text_sample(sample, output)


# -- running it ----------------------------------------------------------------------------------

DEPLOY_STUB = """#!/bin/sh
# What the README's ./deploy.sh stands for: it checks the receipt `countersign exec` hands it.
countersign receipt verify "$COUNTERSIGN_RECEIPT" --action deploy_production >/dev/null || exit 9
echo "deploying $2 ($COUNTERSIGN_REQUEST_ID)"
"""

CLAUDE_STUB = """#!/bin/sh
# Stands in for Claude Code's `claude mcp add NAME --env VAR=VALUE -- COMMAND ARGS...`.
[ "$1 $2" = "mcp add" ] || { echo "claude stub: not 'mcp add'" >&2; exit 2; }
shift 3
token=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  [ "$1" = "--env" ] && case "$2" in COUNTERSIGN_TOKEN=cs_?*) token=yes ;; esac
  shift
done
[ $# -gt 1 ] || { echo "claude stub: no command after --" >&2; exit 2; }
shift
[ -n "$token" ] || { echo "claude stub: no COUNTERSIGN_TOKEN=cs_..." >&2; exit 2; }
[ -x "$1" ] || { echo "claude stub: $1 is not executable" >&2; exit 2; }
"""


def driver_script(steps, work, server_url):
    """One bash script running every step in order, each one's output in .tour/out.N and its
    exit status in .tour/rc.N."""
    out = ["set +e", f"cd {shq(work)}"]
    joins = []
    for step in steps:
        if step.marker == "skip":
            continue
        commands = step.commands.replace(DOC_URL, server_url)
        n = step.index
        redirect = f"> .tour/out.{n} 2>&1"
        if step.marker == "background":
            out += ["{", commands, f"}} {redirect} &", f"bg_{n}=$!"]
            if step.sample is not None:
                out.append(f'for ((i = 0; i < {FIRST_LINE_POLLS}; i++)); do '
                           f'[ "$(wc -l < .tour/out.{n})" -ge 1 ] && break; sleep 0.05; done')
            joins.append(n)
            continue
        out += ["{", commands, f"}} {redirect}", f"echo $? > .tour/rc.{n}"]
        for j in joins:
            out += [f"wait $bg_{j}", f"echo $? > .tour/rc.{j}"]
        joins = []
    for j in joins:
        out += [f"wait $bg_{j}", f"echo $? > .tour/rc.{j}"]
    return "\n".join(out) + "\n"


def shq(text):
    return "'" + text.replace("'", "'\\''") + "'"


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


class ReadmeTourTest(unittest.TestCase):

    def setUp(self):
        for tool in ("jq", "curl", "stdbuf"):
            if shutil.which(tool) is None:
                self.fail(f"the tour needs {tool}: run scripts/install-deps.sh")
        self.work = tempfile.mkdtemp(prefix="countersign-tour-")
        self.addCleanup(shutil.rmtree, self.work, ignore_errors=True)
        os.symlink(BIN_DIR, os.path.join(self.work, "build"))
        os.mkdir(os.path.join(self.work, ".tour"))
        stubs = os.path.join(self.work, ".tour", "stubs")
        os.mkdir(stubs)
        for path, text in ((os.path.join(self.work, "deploy.sh"), DEPLOY_STUB),
                           (os.path.join(stubs, "claude"), CLAUDE_STUB)):
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o755)
        self.stubs = stubs
        data = os.path.join(self.work, "data")  # as `make run` makes it
        os.mkdir(data)
        self.server = harness.Server(data_dir=data)
        self.server.start()
        self.addCleanup(self.server.cleanup)

    def run_tour(self, steps):
        env = {k: v for k, v in os.environ.items() if not k.startswith("COUNTERSIGN_")}
        env.update({
            "PATH": self.stubs + os.pathsep + env.get("PATH", "/usr/bin:/bin"),
            "COUNTERSIGN_URL": self.server.url,
            "CS": self.server.url,
            "HOME": self.work,
            # stdbuf preloads a library; a sanitized binary must not refuse to run after it.
            "ASAN_OPTIONS": env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0",
        })
        script = os.path.join(self.work, ".tour", "tour.sh")
        with open(script, "w") as f:
            f.write(driver_script(steps, self.work, self.server.url))
        # stdbuf: each command's stdout line-buffered, as on the terminal the tour is read at,
        # so stdout and stderr lines interleave as the README shows them.
        proc = subprocess.Popen(["stdbuf", "-oL", "bash", script], cwd=self.work, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            driver_output, _ = proc.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            driver_output, _ = proc.communicate()
            self.fail(f"the tour did not finish within {RUN_TIMEOUT}s (a block waiting for a "
                      f"decision nobody makes?):\n{self.outputs(steps)}\n"
                      f"{driver_output.decode(errors='replace')}\n"
                      f"{self.server.read_log()[-3000:]}")
        self.assertEqual(proc.returncode, 0, driver_output.decode(errors="replace"))

    def outputs(self, steps):
        return "\n".join(f"--- {step}: exit {read(self.tour_file('rc', step))}\n"
                         f"{read(self.tour_file('out', step))}" for step in steps)

    def tour_file(self, kind, step):
        return os.path.join(self.work, ".tour", f"{kind}.{step.index}")

    def test_every_block_of_the_tour_runs_and_prints_what_the_readme_shows(self):
        with open(README) as f:
            steps = tour_steps(f.read())
        self.assertGreater(len(steps), 10, "the tour has lost its blocks")
        self.run_tour(steps)

        problems = []
        for i, step in enumerate(steps):
            if step.marker == "skip":
                continue
            output = read(self.tour_file("out", step))
            rc = read(self.tour_file("rc", step))
            if rc is None or rc.strip() != "0":
                problems.append(f"{step}: exited {rc and rc.strip()}:\n{output}")
                continue
            sample = step.sample
            if sample is None and step.marker == "background" and i + 1 < len(steps):
                sample = steps[i + 1].sample  # "both answer with the approved request"
            if sample is None:
                continue
            kind, text, line = sample
            for problem in compare_sample(kind, text, output):
                problems.append(f"{step}, sample at README.md:{line}: {problem}")
        if problems:
            self.fail("the README tour drifted from the code:\n" + "\n".join(problems) +
                      "\n\nwhat each block printed:\n" + self.outputs(steps))

        # The tour keeps the tokens it writes to files readable by their owner alone.
        tokens = os.path.join(self.work, ".tokens")
        self.assertTrue(os.path.isdir(tokens), "the tour writes its token files to .tokens/")
        self.assertEqual(stat.S_IMODE(os.stat(tokens).st_mode) & 0o077, 0)
        for name in os.listdir(tokens):
            mode = stat.S_IMODE(os.stat(os.path.join(tokens, name)).st_mode)
            self.assertEqual(mode, 0o600, f".tokens/{name} has mode {oct(mode)}")


class ShapeRulesTest(unittest.TestCase):
    """The comparison fails when an answer or a CLI line changes shape."""

    REQUEST = ('{"id":"req_01M7YQ0KET0372EXW812BTE32A","status":"pending","risk":"normal",'
               '"decisions":[],"receipt":null,"created_at":"2026-11-21T09:29:18.042Z"}')

    def real(self, **changes):
        value = json.loads(self.REQUEST)
        value["id"] = "req_01KQ00000000000000000000AB"
        value["created_at"] = "2027-01-02T03:04:05.678Z"
        value.update(changes)
        return json.dumps(value)

    def test_the_same_shape_with_other_ids_and_times_matches(self):
        self.assertEqual(compare_json_sample(self.REQUEST, self.real()), [])

    def test_an_added_key_fails_unless_the_sample_is_abridged(self):
        self.assertTrue(compare_json_sample(self.REQUEST, self.real(policy_reason="x")))
        abridged = '{"id":"req_01M7YQ0KET0372EXW812BTE32A", ..., "status":"pending", ...}'
        self.assertEqual(compare_json_sample(abridged, self.real(policy_reason="x")), [])

    def test_a_removed_key_fails_even_in_an_abridged_sample(self):
        real = json.loads(self.real())
        del real["risk"]
        self.assertTrue(compare_json_sample(self.REQUEST, json.dumps(real)))
        self.assertTrue(compare_json_sample('{"risk":"normal", ...}', json.dumps(real)))

    def test_a_changed_type_or_word_fails(self):
        self.assertTrue(compare_json_sample(self.REQUEST, self.real(receipt="eyJhbGci.e30.c2ln")))
        self.assertTrue(compare_json_sample(self.REQUEST, self.real(status="approved")))
        self.assertTrue(compare_json_sample(self.REQUEST, self.real(decisions={})))

    def test_an_elided_string_matches_any_hash_or_receipt(self):
        sample = '{"prev_hash":"658b79f1...","receipt":"eyJhbGciOiJFZERTQSJ9.eyJh…"}'
        real = json.dumps({"prev_hash": "0123456789abcdef" * 4,
                           "receipt": "eyJhbGciOiJFZERTQSIsImtpZCI6IngifQ.eyJ0Ijo1fQ.c2lnbmF0"})
        self.assertEqual(compare_json_sample(sample, real), [])

    def test_run_together_values_are_each_compared(self):
        self.assertEqual(compare_json_sample('{"ok":true}\n{"n":1}', '{"ok":false}{"n":7}'), [])
        self.assertTrue(compare_json_sample('{"ok":true}\n{"n":1}', '{"ok":false}'))

    def test_a_cli_line_that_changes_shape_fails(self):
        sample = ("req_01M7YQ10T9ENGTPBQ4C1JSJ71Q approved by bob\n"
                  '  2026-11-21 09:29:32Z  bob  approve  "canary is green"\n')
        same = ("req_01KQ00000000000000000000AB approved by bob\n"
                '  2027-01-02 03:04:05Z    bob  approve  "canary is green"\n')
        self.assertEqual(compare_text_sample(sample, same), [])
        self.assertTrue(compare_text_sample(sample, same.replace("approved by", "approved:")))
        self.assertTrue(compare_text_sample(sample, same + "one more line\n"))
        self.assertTrue(compare_text_sample(sample, same.splitlines()[0]))

    def test_an_elision_line_takes_any_lines(self):
        sample = "req_01M7YQ10T9ENGTPBQ4C1JSJ71Q approved by bob\n...the output of ./deploy.sh...\n"
        self.assertEqual(compare_text_sample(sample, "req_01KQ00000000000000000000AB approved "
                                                     "by bob\ndeploying v2.1\nok\n"), [])
        self.assertEqual(compare_text_sample(sample, "req_01KQ00000000000000000000AB approved "
                                                     "by bob\n"), [])

    def test_markers_and_samples_are_read_from_the_tour(self):
        text = "\n".join([
            "# x", TOUR_HEADING, "", "```sh", "echo one", "```", "```", "one", "```",
            "<!-- tour: background -->", "```sh", "sleep 1", "```", "prose", "",
            "```sh", "echo two", "```", "Both say:", "```json", '{"a":1}', "```",
            "<!-- tour: skip -->", "```sh", "./migrate.sh", "```",
            "## Next", "```sh", "not in the tour", "```"])
        steps = tour_steps(text)
        self.assertEqual([(s.commands, s.marker, s.sample and s.sample[:2]) for s in steps], [
            ("echo one", None, ("text", "one")),
            ("sleep 1", "background", None),
            ("echo two", None, ("json", '{"a":1}')),
            ("./migrate.sh", "skip", None)])


if __name__ == "__main__":
    unittest.main()
