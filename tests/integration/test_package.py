"""The Debian package and the Dockerfile (docs/operations.md).

cpack builds the .deb from the build directory of the binary under test (the directory that
holds it, with its CPackConfig.cmake); packing strips a copy of the binary, so it takes
seconds. The package is never installed: `dpkg -x` unpacks it into a temporary root, the
binary from there serves with the packaged config file (its port and data directory
overridden), and the maintainer scripts run against that root with the commands that would
change the system (adduser, install, chown, chmod, systemctl) replaced by recorders.

Docker is not needed: the Dockerfile is checked against scripts/install-deps.sh and for what
the image must have (a non-root user, the health check, the volume), not built.
"""

import glob
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

import harness

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.abspath(harness.BIN)
BUILD_DIR = os.path.dirname(BIN)
TOOL_TIMEOUT = 300  # seconds; a safety net for cpack and dpkg, which take seconds
CONFIG = "etc/countersign/countersign.toml"
UNIT = "lib/systemd/system/countersign.service"
SCRIPTS = ("postinst", "prerm", "postrm")


def run(args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, timeout=TOOL_TIMEOUT, **kwargs)


def project_version():
    with open(os.path.join(REPO, "CMakeLists.txt")) as f:
        return re.search(r"project\(countersign VERSION ([0-9.]+)", f.read()).group(1)


def directives(unit_text):
    """A unit's lines without comments and blank lines: what systemd reads."""
    return [line for line in unit_text.splitlines() if line.strip() and not line.startswith("#")]


def unit_in_operations_md():
    with open(os.path.join(REPO, "docs", "operations.md")) as f:
        blocks = re.findall(r"```ini\n(.*?)```", f.read(), re.S)
    units = [b for b in blocks if "[Service]" in b]
    if len(units) != 1:
        raise AssertionError(f"docs/operations.md has {len(units)} systemd units, expected 1")
    return units[0]


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="countersign-package-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cpack_config = os.path.join(BUILD_DIR, "CPackConfig.cmake")
        if not os.path.exists(cpack_config):
            raise AssertionError(f"{cpack_config} is missing: configure {BUILD_DIR} again "
                                 "(cmake -S . -B ...) with this CMakeLists.txt")
        out_dir = os.path.join(cls.tmp, "out")
        packed = run(["cpack", "-G", "DEB", "--config", cpack_config, "-B", out_dir])
        if packed.returncode != 0:
            raise AssertionError(f"cpack failed:\n{packed.stdout}\n{packed.stderr}")
        debs = glob.glob(os.path.join(out_dir, "*.deb"))
        if len(debs) != 1:
            raise AssertionError(f"cpack made {debs}, expected one .deb:\n{packed.stdout}")
        cls.deb = debs[0]
        cls.root = os.path.join(cls.tmp, "root")
        unpacked = run(["dpkg-deb", "-x", cls.deb, cls.root])
        if unpacked.returncode != 0:
            raise AssertionError(f"dpkg-deb -x failed: {unpacked.stderr}")
        cls.control = os.path.join(cls.tmp, "control")
        extracted = run(["dpkg-deb", "-e", cls.deb, cls.control])
        if extracted.returncode != 0:
            raise AssertionError(f"dpkg-deb -e failed: {extracted.stderr}")

    def field(self, name):
        out = run(["dpkg-deb", "-f", self.deb, name])
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout.strip()

    def read(self, path):
        with open(os.path.join(self.root, path)) as f:
            return f.read()

    # -- the package --------------------------------------------------------------------------
    def test_the_control_file_names_the_package_its_version_and_architecture(self):
        self.assertEqual(self.field("Package"), "countersign")
        self.assertEqual(self.field("Version"), project_version() + "-1")
        arch = run(["dpkg", "--print-architecture"]).stdout.strip()
        self.assertEqual(self.field("Architecture"), arch)
        self.assertEqual(os.path.basename(self.deb),
                         f"countersign_{project_version()}-1_{arch}.deb")
        self.assertTrue(self.field("Maintainer"))
        self.assertIn("human-confirmation gateway", self.field("Description"))

    def test_it_depends_on_the_package_of_every_library_the_binary_links(self):
        depends = {re.split(r"[ (]", d.strip())[0] for d in self.field("Depends").split(",")}
        self.assertIn("adduser", depends)  # the postinst's
        binary = os.path.join(self.root, "usr/bin/countersign")
        dynamic = run(["readelf", "-d", binary]).stdout
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic)
        self.assertIn("libsqlite3.so.0", needed)
        # "package[:arch][, package...]: /path" for every installed file of those names.
        owners = run(["dpkg", "-S"] + ["*/" + soname for soname in needed]).stdout
        # Each package's own name and the names it provides (libspdlog1.10 is depended on as
        # libspdlog1.10-fmt9, the build of it against libfmt9).
        provides = run(["dpkg-query", "-W", "-f=${Package} ${Provides}\n"]).stdout
        names = {}
        for line in provides.splitlines():
            package, _, provided = line.partition(" ")
            names[package] = {package} | {re.split(r"[ (]", p.strip())[0]
                                          for p in provided.split(",") if p.strip()}
        for soname in needed:
            packages = {package.strip().split(":")[0]
                        for line in owners.splitlines() if line.endswith("/" + soname)
                        for package in line.rpartition(": ")[0].split(",")}
            self.assertTrue(packages, f"no installed package holds {soname}")
            acceptable = set().union(*(names.get(p, {p}) for p in packages))
            self.assertTrue(acceptable & depends,
                            f"{soname} comes from {packages}, none of them in Depends {depends}")

    def test_it_holds_the_stripped_binary_the_unit_and_the_config_file_as_a_conffile(self):
        binary = os.path.join(self.root, "usr/bin/countersign")
        self.assertTrue(os.stat(binary).st_mode & stat.S_IXOTH)
        sections = run(["readelf", "-S", "-W", binary]).stdout
        self.assertNotIn(".symtab", sections)
        self.assertNotIn(".debug_", sections)
        with open(os.path.join(REPO, "packaging", "countersign.service")) as f:
            self.assertEqual(self.read(UNIT), f.read())
        with open(os.path.join(REPO, "packaging", "countersign.toml")) as f:
            self.assertEqual(self.read(CONFIG), f.read())
        with open(os.path.join(self.control, "conffiles")) as f:
            self.assertEqual(f.read().split(), ["/" + CONFIG])
        for script in SCRIPTS:
            path = os.path.join(self.control, script)
            self.assertTrue(os.access(path, os.X_OK), script)
            with open(path) as f, open(os.path.join(REPO, "packaging", "deb", script)) as g:
                self.assertEqual(f.read(), g.read(), script)

    def test_the_unit_in_operations_md_is_the_packaged_unit(self):
        self.assertEqual(directives(unit_in_operations_md()), directives(self.read(UNIT)))
        self.assertIn("ExecStart=/usr/bin/countersign serve --config /" + CONFIG,
                      directives(self.read(UNIT)))
        self.assertIn("ExecReload=/bin/kill -HUP $MAINPID", directives(self.read(UNIT)))

    @unittest.skipUnless(shutil.which("systemd-analyze"), "needs systemd-analyze (systemd)")
    def test_systemd_reads_every_line_of_the_unit(self):
        # With ExecStart pointing at the unpacked binary, so that verify finds it.
        unit = os.path.join(self.tmp, "countersign.service")
        with open(unit, "w") as f:
            f.write(self.read(UNIT).replace("/usr/bin/countersign",
                                            os.path.join(self.root, "usr/bin/countersign")))
        checked = run(["systemd-analyze", "verify", unit])
        self.assertEqual((checked.returncode, checked.stderr), (0, ""))

    def test_the_packaged_config_passes_the_servers_own_check(self):
        binary = os.path.join(self.root, "usr/bin/countersign")
        config = os.path.join(self.root, CONFIG)
        checked = run([binary, "policy", "test", "--config", config, "--action",
                       "deploy_production"])
        self.assertEqual(checked.returncode, 0, checked.stderr)
        self.assertIn("config:", checked.stdout)

    def test_the_unpacked_binary_serves_with_the_packaged_config(self):
        data_dir = tempfile.mkdtemp(prefix="countersign-package-data-")
        config = os.path.join(self.root, CONFIG)
        server = harness.Server(binary=os.path.join(self.root, "usr/bin/countersign"),
                                data_dir=data_dir, extra_args=["--config", config,
                                                               "--data-dir", data_dir])
        self.addCleanup(shutil.rmtree, data_dir, ignore_errors=True)
        self.addCleanup(server.cleanup)
        server.start()
        r = server.call("GET", "/healthz", token=None)
        self.assertEqual(r.status, 200, r)
        # Auth is on (the file says so) and the first admin token went to the data directory
        # given, not to the file's /var/lib/countersign.
        self.assertIsNotNone(server.admin_token)
        self.assertEqual(server.call("GET", "/v1/requests", token=None).status, 401)
        self.assertEqual(server.call("GET", "/v1/requests").status, 200)
        self.assertIn(config, server.read_log())

    # -- the maintainer scripts ---------------------------------------------------------------
    def run_script(self, script, *args, user_exists=False, data_dir_exists=False):
        """Runs a maintainer script of the package against a copy of the unpacked root
        (DPKG_ROOT), with every command that would change this system recorded instead;
        returns (status, the recorded command lines, the root)."""
        work = tempfile.mkdtemp(prefix="countersign-maint-")
        self.addCleanup(shutil.rmtree, work, ignore_errors=True)
        root = os.path.join(work, "root")
        shutil.copytree(self.root, root, symlinks=True)
        if data_dir_exists:
            os.makedirs(os.path.join(root, "var/lib/countersign"))
        stubs = os.path.join(work, "bin")
        os.mkdir(stubs)
        log = os.path.join(work, "calls")
        for command in ("adduser", "install", "chown", "chmod", "systemctl", "getent"):
            status = 0 if command != "getent" or user_exists else 2
            with open(os.path.join(stubs, command), "w") as f:
                f.write(f'#!/bin/sh\necho "{command} $*" >> "{log}"\nexit {status}\n')
            os.chmod(os.path.join(stubs, command), 0o755)
        env = {"PATH": stubs + ":/usr/bin:/bin", "DPKG_ROOT": root,
               "DPKG_MAINTSCRIPT_NAME": script, "DPKG_MAINTSCRIPT_PACKAGE": "countersign"}
        done = run([os.path.join(self.control, script)] + list(args), env=env)
        calls = []
        if os.path.exists(log):
            with open(log) as f:
                calls = f.read().splitlines()
        return done.returncode, calls, root

    def test_the_postinst_creates_the_user_and_the_data_directory_on_first_install(self):
        status, calls, root = self.run_script("postinst", "configure", "")
        self.assertEqual(status, 0)
        self.assertEqual(calls, [
            "getent passwd countersign",
            "adduser --system --group --quiet --home /var/lib/countersign --no-create-home "
            "--shell /usr/sbin/nologin countersign",
            f"install -d -o countersign -g countersign -m 0750 {root}/var/lib/countersign",
            f"chown root:countersign {root}/{CONFIG}",
            f"chmod 0640 {root}/{CONFIG}",
        ])

    def test_the_postinst_of_an_upgrade_keeps_the_user_and_the_data_directory(self):
        status, calls, root = self.run_script("postinst", "configure", "0.0.1-1",
                                              user_exists=True, data_dir_exists=True)
        self.assertEqual(status, 0)
        # The config file's owner and mode are set again: dpkg installs a new one as root's.
        self.assertEqual(calls, [
            "getent passwd countersign",
            f"chown root:countersign {root}/{CONFIG}",
            f"chmod 0640 {root}/{CONFIG}",
        ])

    def test_removing_and_purging_leave_the_data_and_the_user(self):
        for script, action in (("prerm", "remove"), ("postrm", "remove"), ("postrm", "purge")):
            status, calls, root = self.run_script(script, action, user_exists=True,
                                                  data_dir_exists=True)
            self.assertEqual(status, 0, script)
            # No systemd runs for another root, and no script deletes the data or the user.
            self.assertEqual(calls, [], script)
            self.assertTrue(os.path.isdir(os.path.join(root, "var/lib/countersign")), script)


class DockerfileTest(unittest.TestCase):
    """The Dockerfile builds with Debian 12's build dependencies and runs as a user."""

    @classmethod
    def setUpClass(cls):
        with open(os.path.join(REPO, "Dockerfile")) as f:
            cls.text = f.read()
        stages = re.split(r"^FROM ", cls.text, flags=re.M)[1:]
        cls.build, cls.image = stages[0], stages[-1]

    @staticmethod
    def apt_packages(text):
        """The packages of the first `apt-get install ... &&` in text."""
        words = re.search(r"apt-get install -y --no-install-recommends(.*?)&&", text, re.S)
        return [w for w in words.group(1).split() if w != "\\"]

    def test_the_build_stage_installs_the_build_dependencies_of_install_deps(self):
        with open(os.path.join(REPO, "scripts", "install-deps.sh")) as f:
            listed = re.search(r"packages=\((.*?)\n\)", f.read(), re.S).group(1)
        deps = set(re.sub(r"#.*", "", listed).split())
        build = set(self.apt_packages(self.build))
        self.assertTrue(self.build.startswith("debian:12 "), self.build[:40])
        # Everything comes from install-deps.sh (`file` and dpkg-dev for cpack's shlibdeps too).
        self.assertEqual(build - deps, set())
        test_only = {"libgtest-dev", "libclang-rt-14-dev"}
        self.assertEqual({p for p in deps if p.endswith("-dev")} - test_only - build, set())
        self.assertIn("-DCMAKE_BUILD_TYPE=Release", self.build)
        self.assertIn("cpack -G DEB", self.build)

    def test_the_image_runs_the_package_as_a_user_with_a_health_check(self):
        self.assertTrue(self.image.startswith("debian:12-slim"), self.image[:40])
        self.assertIn("/tmp/countersign.deb", self.apt_packages(self.image))
        self.assertIn("curl", self.apt_packages(self.image))
        self.assertRegex(self.image, r"(?m)^USER countersign$")
        self.assertRegex(self.image, r"(?m)^VOLUME /var/lib/countersign$")
        self.assertRegex(self.image, r"(?m)^EXPOSE 7400$")
        self.assertRegex(self.image, r"(?m)^HEALTHCHECK .*\n?.*curl .*/healthz")
        self.assertIn("COUNTERSIGN_LISTEN=0.0.0.0:7400", self.image)

    def test_build_trees_stay_out_of_the_build_context(self):
        with open(os.path.join(REPO, ".dockerignore")) as f:
            ignored = f.read().split()
        self.assertIn("build*/", ignored)
        self.assertIn(".git/", ignored)
        self.assertIn("*.token", ignored)  # examples/README.md writes ci.token and bob.token


if __name__ == "__main__":
    unittest.main()
