"""A full disk: writes answer 503 and lose nothing; reads go on; writes resume with space.

Uses a real full filesystem (a small tmpfs), so it needs root; it is skipped otherwise.
"""

import os
import shutil
import subprocess
import tempfile
import unittest

from harness import Server


def mount_tmpfs(path, size):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path],
                       capture_output=True)
    return r.returncode == 0


class FullDiskTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="countersign-full-")
        if not mount_tmpfs(self.dir, "8m"):
            os.rmdir(self.dir)
            self.skipTest("needs root and tmpfs to make a real full disk")
        self.addCleanup(self._unmount)

    def _unmount(self):
        subprocess.run(["umount", "-l", self.dir], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_writes_get_503_and_nothing_acknowledged_is_lost(self):
        server = Server(data_dir=os.path.join(self.dir, "data"))
        os.makedirs(server.data_dir)
        server.start()
        self.addCleanup(server.stop)
        alice = server.create_token("alice", "approver")
        kept = server.create_request(title="before the disk filled")

        # Take nearly all the space, then write until the store refuses.
        filler = os.path.join(self.dir, "filler")
        with open(filler, "wb", buffering=0) as f:  # nothing left to flush at close
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        os.truncate(filler, os.path.getsize(filler) - 256 * 1024)
        acknowledged, refused = [], None
        for i in range(200):
            r = server.call("POST", "/v1/requests", {"action": "fill", "title": f"fill {i}",
                                                     "details": {"pad": "x" * 20000}})
            if r.status == 201:
                acknowledged.append(r.json["id"])
            else:
                refused = r
                break
        self.assertIsNotNone(refused, "the disk never filled")
        self.assertEqual(refused.status, 503, refused)
        self.assertEqual(refused.json["error"]["code"], "unavailable")
        self.assertIn("Retry-After", refused.headers)

        # Not ready while the disk is full: a load balancer sends the writes elsewhere.
        ready = server.call("GET", "/readyz", token=None)
        self.assertEqual(ready.status, 503, ready)
        self.assertIn("full", ready.json["store"])

        # Reads still work and everything acknowledged is there.
        self.assertEqual(server.call("GET", f"/v1/requests/{kept['id']}").status, 200)
        for rid in acknowledged:
            self.assertEqual(server.call("GET", f"/v1/requests/{rid}").status, 200)

        # Free the space: ready again at once, writes resume, the decision lands, the chain is
        # whole.
        os.unlink(filler)
        self.assertEqual(server.call("GET", "/readyz", token=None).status, 200)
        d = server.call("POST", f"/v1/requests/{kept['id']}/decisions", {"choice": "approve"},
                        token=alice)
        self.assertEqual(d.status, 200, d)
        self.assertEqual(d.json["status"], "approved")
        self.assertEqual(server.create_request(title="after")["status"], "pending")
        self.assertTrue(server.call("GET", "/v1/audit/verify").json["ok"])


if __name__ == "__main__":
    unittest.main()
