#!/usr/bin/python3
"""A real Slurm on this machine (Debian's slurm-wlm and munge, configured here for localhost:
one controller, one node): scripts/slurm/score.sbatch as an array job of 4 shards over the
bundled digits, scripts/slurm/merge.sh, and ptjs eval / compare against one run on one machine;
then one task cancelled in the middle and submitted again, resuming its part file.

Needs root (slurmd runs jobs as their users) and the Debian packages; skips without them unless
PTJS_SLURM_REQUIRED=1 (scripts/test.sh sets it). Environment: PTJS_BIN, PTJS_SOURCE_DIR,
PTJS_PYTHON (Python with torch, for the slow model).
"""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

PTJS = os.environ["PTJS_BIN"]
SRC = os.environ["PTJS_SOURCE_DIR"]
PYTHON = os.environ.get("PTJS_PYTHON", "/usr/bin/python3")
DIGITS_PT = os.path.join(SRC, "configs", "digits", "model.pt")
IMAGES = os.path.join(SRC, "configs", "digits", "images")
SBATCH = os.path.join(SRC, "scripts", "slurm", "score.sbatch")
MERGE = os.path.join(SRC, "scripts", "slurm", "merge.sh")
SHARDS = 4


def missing():
    for tool in ("slurmctld", "slurmd", "sbatch", "squeue", "scancel", "munged"):
        if not shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin"):
            return f"{tool} not found (apt install slurm-wlm munge)"
    if os.geteuid() != 0:
        return "not root: slurmd must run jobs as their users"
    if not os.path.exists("/etc/munge/munge.key"):
        return "no /etc/munge/munge.key (Debian's munge package makes it)"
    return None


WHY = missing()
if WHY and os.environ.get("PTJS_SLURM_REQUIRED") == "1":
    raise SystemExit(f"test_slurm: {WHY}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, timeout=kwargs.pop("timeout", 300), **kwargs)


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def all_images():
    return sorted(os.path.join(root, n) for root, _, names in os.walk(IMAGES) for n in names if n.endswith(".png"))


@unittest.skipIf(WHY, WHY)
class SlurmTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ptjs-slurm-")
        os.chmod(cls.tmp, 0o755)  # munged runs as the munge user and keeps its files below
        cls.procs = []
        munge_dir = os.path.join(cls.tmp, "munge")
        os.makedirs(munge_dir)
        shutil.chown(munge_dir, "munge", "munge")
        cls.munge_socket = os.path.join(munge_dir, "munge.sock")
        # A munged of our own, on its own socket, as the munge user (it refuses root).
        r = run("runuser", "-u", "munge", "--", "/usr/sbin/munged", f"--socket={cls.munge_socket}",
                f"--pid-file={munge_dir}/munged.pid", f"--log-file={munge_dir}/munged.log",
                f"--seed-file={munge_dir}/munged.seed", "--key-file=/etc/munge/munge.key")
        if r.returncode != 0:
            raise AssertionError(f"munged did not start: {r.stderr}")
        state, spool = os.path.join(cls.tmp, "state"), os.path.join(cls.tmp, "spool")
        os.makedirs(state)
        os.makedirs(spool)
        conf = os.path.join(cls.tmp, "slurm.conf")
        with open(conf, "w") as f:
            f.write(f"""ClusterName=ptjs-test
SlurmctldHost=localhost
SlurmUser=root
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
AuthType=auth/munge
AuthInfo=socket={cls.munge_socket}
StateSaveLocation={state}
SlurmdSpoolDir={spool}
SlurmctldPidFile={cls.tmp}/slurmctld.pid
SlurmdPidFile={cls.tmp}/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName=localhost CPUs={os.cpu_count()} RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
""")
        cls.env = dict(os.environ, SLURM_CONF=conf, PTJS=PTJS)
        for daemon, log in (("slurmctld", "slurmctld.log"), ("slurmd", "slurmd.log")):
            with open(os.path.join(cls.tmp, log), "w") as out:
                cls.procs.append(subprocess.Popen([f"/usr/sbin/{daemon}", "-D", "-c"], env=cls.env, stdout=out,
                                                  stderr=subprocess.STDOUT))
        deadline = time.time() + 60
        while time.time() < deadline:
            r = run("sinfo", "-h", "-o", "%t", env=cls.env)
            if r.returncode == 0 and r.stdout.strip() == "idle":
                break
            time.sleep(0.3)
        else:
            raise AssertionError("the Slurm node did not become idle:\n" + cls.logs())
        cls.single = os.path.join(cls.tmp, "single.jsonl")
        r = run(PTJS, "run", "--model", DIGITS_PT, "--input", IMAGES, "--quiet", "--output", cls.single)
        assert r.returncode == 0, r.stderr

    @classmethod
    def tearDownClass(cls):
        for p in cls.procs:
            p.terminate()
        for p in cls.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        pid_file = os.path.join(cls.tmp, "munge", "munged.pid")
        if os.path.exists(pid_file):
            with open(pid_file) as f:
                try:
                    os.kill(int(f.read().strip()), 15)
                except (ProcessLookupError, ValueError):
                    pass
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def logs(cls):
        text = ""
        for name in ("slurmctld.log", "slurmd.log"):
            path = os.path.join(cls.tmp, name)
            if os.path.exists(path):
                with open(path) as f:
                    text += f"--- {name}\n" + f.read()[-3000:]
        return text

    def sbatch(self, array, out, *extra, wait=True, model=DIGITS_PT):
        args = ["sbatch", "--parsable", f"--array={array}", f"--output={self.tmp}/task-%A_%a.log", "--chdir", self.tmp]
        if wait:
            args.append("--wait")
        r = run(*args, SBATCH, str(SHARDS), model, IMAGES, out, *extra, env=self.env, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr + self.logs())
        return r.stdout.strip().split(";")[0]

    def wait_gone(self, job, timeout=300):
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = run("squeue", "-h", "-j", job, env=self.env)
            if r.returncode != 0 or not r.stdout.strip():
                return
            time.sleep(0.2)
        self.fail(f"job {job} still queued after {timeout} s:\n" + self.logs())

    def check_merged(self, out):
        merged = os.path.join(out, "all.jsonl")
        r = run(MERGE, str(SHARDS), out, merged)
        self.assertEqual(r.returncode, 0, r.stderr)
        records = lines(merged)
        files = [r["file"] for r in records]
        self.assertEqual(sorted(files), all_images(), "every input scored exactly once")
        # What one machine says: the same accuracy, the same answers.
        evals = [json.loads(run(PTJS, "eval", path, "--input", IMAGES, "--json").stdout) for path in (merged, self.single)]
        self.assertEqual(evals[0]["top1"], evals[1]["top1"])
        self.assertEqual(evals[0]["confusion"], evals[1]["confusion"])
        same = run(PTJS, "compare", self.single, merged, "--max-flips", "0", "--max-score-diff", "1e-5")
        self.assertEqual(same.returncode, 0, same.stdout + same.stderr)
        return records

    def test_1_array_job_scores_every_input_once(self):
        out = os.path.join(self.tmp, "out")
        started = time.time()
        self.sbatch(f"0-{SHARDS - 1}", out)
        elapsed = time.time() - started
        sizes = [len(lines(os.path.join(out, f"part-{i}.jsonl"))) for i in range(SHARDS)]
        print(f"\n# array job of {SHARDS} shards: {elapsed:.1f} s, records per shard {sizes}")
        self.assertLessEqual(max(sizes) - min(sizes), 1, "shards are balanced by position")
        self.check_merged(out)

    def test_2_cancelled_task_resumes_where_it_stopped(self):
        models = os.path.join(self.tmp, "models")
        r = run(PYTHON, os.path.join(SRC, "tests", "cluster", "make_slow_digits.py"), models, "60")
        self.assertEqual(r.returncode, 0, r.stderr)
        slow = os.path.join(models, "slow_digits.yaml")
        out = os.path.join(self.tmp, "out-cancel")
        job = self.sbatch(f"0-{SHARDS - 1}", out, "--batch-size", "1", wait=False, model=slow)
        part = os.path.join(out, "part-2.jsonl")
        deadline = time.time() + 120
        while time.time() < deadline and len(lines(part)) < 3:
            time.sleep(0.05)
        before = len(lines(part))
        self.assertGreaterEqual(before, 3, "task 2 never started writing:\n" + self.logs())
        run("scancel", f"{job}_2", env=self.env)
        self.wait_gone(job)
        cut = len(lines(part))
        shard = len(all_images()[2::SHARDS])
        print(f"\n# task 2 cancelled after {cut} of {shard} records")
        self.assertLess(cut, shard, "task 2 finished before it could be cancelled: make the model slower")
        self.assertEqual(run(MERGE, str(SHARDS), out, "-").returncode, 0)  # every part is there, one short
        self.sbatch("2", out, "--batch-size", "1", model=slow)
        records = self.check_merged(out)
        self.assertEqual(len(records), len(all_images()))


if __name__ == "__main__":
    unittest.main()
