#!/usr/bin/python3
"""Checks the deployment files in configs/deploy: every YAML parses, and the fields that make
them work are there (KServe v2 runtime with health probes and metrics, the InferenceService
bound to it, the Indexed Job's sharding and resume, the Dockerfile's base and entrypoint).
With PTJS_BIN set, also checks that every ptjs flag they pass is one ptjs knows, and runs the
Indexed Job's container args locally for every index (a retried pod included).

Environment: PTJS_SOURCE_DIR (default: the repository of this file), PTJS_BIN (optional).
Run: /usr/bin/python3 -m unittest -v test_deploy   (needs python3-yaml)
"""
import glob
import os
import json
import re
import shutil
import subprocess
import tempfile
import unittest

import yaml

SRC = os.environ.get("PTJS_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPLOY = os.path.join(SRC, "configs", "deploy")
PTJS = os.environ.get("PTJS_BIN")
PORT = 8080


def documents():
    """[(file name, document)] for every non-empty YAML document in configs/deploy."""
    docs = []
    for path in sorted(glob.glob(os.path.join(DEPLOY, "*.yaml")) + glob.glob(os.path.join(DEPLOY, "*.yml"))):
        with open(path) as f:
            docs += [(os.path.basename(path), d) for d in yaml.safe_load_all(f) if d is not None]
    return docs


def of_kind(kind):
    found = [d for _, d in documents() if d.get("kind") == kind]
    if not found:
        raise AssertionError(f"no {kind} in {DEPLOY}")
    return found


def ptjs_flags(args):
    return [a for a in args if a.startswith("--")]


class DeployTest(unittest.TestCase):
    def test_every_yaml_parses_and_names_its_kind(self):
        docs = documents()
        self.assertTrue(docs, f"no YAML in {DEPLOY}")
        for name, doc in docs:
            with self.subTest(file=name):
                self.assertIsInstance(doc, dict)
                for key in ("apiVersion", "kind", "metadata"):
                    self.assertIn(key, doc)
                self.assertTrue(doc["metadata"].get("name"))
        kinds = {d["kind"] for _, d in docs}
        self.assertLessEqual({"ServingRuntime", "InferenceService", "Job"}, kinds)

    def test_serving_runtime_speaks_v2_with_probes_and_metrics(self):
        (rt,) = of_kind("ServingRuntime")
        self.assertEqual(rt["apiVersion"], "serving.kserve.io/v1alpha1")
        self.assertIn("v2", rt["spec"]["protocolVersions"])
        self.assertTrue(rt["spec"]["supportedModelFormats"])
        (c,) = rt["spec"]["containers"]
        self.assertEqual(c["name"], "kserve-container")
        self.assertEqual(c["command"][:2], ["ptjs", "serve"])
        args = c["args"]
        self.assertEqual(args[args.index("--host") + 1], "0.0.0.0")  # loopback is the default
        self.assertEqual(int(args[args.index("--port") + 1]), PORT)
        self.assertIn("/mnt/models/", args[args.index("--model") + 1])
        self.assertIn(PORT, [p["containerPort"] for p in c["ports"]])
        self.assertEqual(c["livenessProbe"]["httpGet"]["path"], "/v2/health/live")
        self.assertEqual(c["readinessProbe"]["httpGet"]["path"], "/v2/health/ready")
        for probe in ("livenessProbe", "readinessProbe"):
            self.assertEqual(int(c[probe]["httpGet"]["port"]), PORT)
        ann = rt["metadata"]["annotations"]
        self.assertEqual(int(ann["prometheus.kserve.io/port"]), PORT)
        self.assertEqual(ann["prometheus.kserve.io/path"], "/metrics")

    def test_inference_service_uses_the_runtime_and_is_scraped(self):
        (rt,) = of_kind("ServingRuntime")
        (isvc,) = of_kind("InferenceService")
        self.assertEqual(isvc["apiVersion"], "serving.kserve.io/v1beta1")
        model = isvc["spec"]["predictor"]["model"]
        self.assertEqual(model["runtime"], rt["metadata"]["name"])
        self.assertEqual(model["protocolVersion"], "v2")
        self.assertIn(model["modelFormat"]["name"], [f["name"] for f in rt["spec"]["supportedModelFormats"]])
        self.assertTrue(model["storageUri"])
        ann = isvc["metadata"]["annotations"]
        self.assertEqual(ann["prometheus.io/scrape"], "true")
        self.assertEqual(int(ann["prometheus.io/port"]), PORT)
        self.assertEqual(ann["prometheus.io/path"], "/metrics")

    def test_indexed_job_shards_by_completion_index_and_resumes(self):
        (job,) = of_kind("Job")
        spec = job["spec"]
        self.assertEqual(spec["completionMode"], "Indexed")
        n = spec["completions"]
        self.assertGreater(n, 1)
        pod = spec["template"]["spec"]
        self.assertIn(pod["restartPolicy"], ("Never", "OnFailure"))
        (c,) = pod["containers"]
        self.assertEqual(c["command"][:2], ["ptjs", "run"])
        args = c["args"]
        self.assertEqual(args[args.index("--shard") + 1], f"$(JOB_COMPLETION_INDEX)/{n}")
        self.assertRegex(args[args.index("--output") + 1], r"/part-\$\(JOB_COMPLETION_INDEX\)\.jsonl$")
        self.assertIn("--resume", args)
        self.assertIn("--input", args)
        self.assertIn("--model", args)

    def test_indexed_job_passes_a_json_schema_of_the_fields_it_relies_on(self):
        """No kubeconform in Debian: a JSON schema (tests/cli/indexed_job.schema.json) of the Job
        fields this project relies on, with the API's names, checked by python3-jsonschema; a
        typo in a field name, a wrong type or a non-indexed Job fails it."""
        import copy

        import jsonschema

        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "indexed_job.schema.json")) as f:
            schema = json.load(f)
        validator = jsonschema.Draft7Validator(schema)
        (job,) = of_kind("Job")
        errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(job)]
        self.assertEqual(errors, [])
        spec = job["spec"]
        self.assertEqual(spec["parallelism"], spec["completions"])
        # The schema catches what it should: each broken copy fails.
        for break_it in (lambda j: j["spec"].update(completionMode="NonIndexed"),
                         lambda j: j["spec"].update(completionmode="Indexed"),
                         lambda j: j["spec"]["template"]["spec"]["containers"][0].update(arg=["--resume"]),
                         lambda j: j["spec"]["template"]["spec"]["containers"][0]["args"].append(4),
                         lambda j: j["spec"]["template"]["spec"].update(restartPolicy="Always")):
            broken = copy.deepcopy(job)
            break_it(broken)
            self.assertFalse(validator.is_valid(broken), broken)

    def test_dockerfile_builds_on_debian_12_and_serves(self):
        with open(os.path.join(DEPLOY, "Dockerfile")) as f:
            text = f.read()
        bases = re.findall(r"^FROM\s+(\S+)", text, re.M)
        self.assertTrue(bases)
        for base in bases:
            self.assertRegex(base, r"^debian:(12|bookworm)")
        self.assertIn("scripts/install-deps.sh", text)
        self.assertRegex(text, r"cmake --build")
        entry = re.search(r"^ENTRYPOINT\s+(\[.*\])", text, re.M)
        self.assertTrue(entry, "ENTRYPOINT in exec form")
        entry = yaml.safe_load(entry.group(1))
        self.assertEqual(entry[:2], ["ptjs", "serve"])
        self.assertEqual(entry[entry.index("--host") + 1], "0.0.0.0")
        self.assertTrue(re.search(rf"^EXPOSE\s+{PORT}\b", text, re.M), "EXPOSE the serving port")

    @unittest.skipUnless(PTJS, "PTJS_BIN not set")
    def test_flags_are_ones_ptjs_knows(self):
        def known(sub):
            out = subprocess.run([PTJS, sub, "--help"], capture_output=True, text=True, timeout=60)
            return out.stdout + out.stderr

        serve_help, run_help = known("serve"), known("run")
        (rt,) = of_kind("ServingRuntime")
        (job,) = of_kind("Job")
        with open(os.path.join(DEPLOY, "Dockerfile")) as f:
            entry = yaml.safe_load(re.search(r"^ENTRYPOINT\s+(\[.*\])", f.read(), re.M).group(1))
        for flag in ptjs_flags(rt["spec"]["containers"][0]["args"]) + ptjs_flags(entry):
            self.assertRegex(serve_help, rf"{re.escape(flag)}\b", f"ptjs serve --help lacks {flag}")
        for flag in ptjs_flags(job["spec"]["template"]["spec"]["containers"][0]["args"]):
            self.assertRegex(run_help, rf"{re.escape(flag)}\b", f"ptjs run --help lacks {flag}")

    @unittest.skipUnless(PTJS, "PTJS_BIN not set")
    def test_job_args_score_every_input_once(self):
        """Runs the Job's container args for every index, with /models and /data mapped to a
        temporary folder, as the pods would (a retried pod included): the parts hold one
        record per input."""
        (job,) = of_kind("Job")
        n = job["spec"]["completions"]
        args = job["spec"]["template"]["spec"]["containers"][0]["args"]
        tmp = tempfile.mkdtemp(prefix="ptjs-deploy-")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        digits = os.path.join(SRC, "configs", "digits")
        os.makedirs(os.path.join(tmp, "models"))
        os.symlink(digits, os.path.join(tmp, "models", "digits"))
        images = []
        for label in sorted(os.listdir(os.path.join(digits, "images")))[:5]:
            folder = os.path.join(digits, "images", label)
            for name in sorted(os.listdir(folder))[:3]:
                dest = os.path.join(tmp, "data", "images", label, name)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copy(os.path.join(folder, name), dest)
                images.append(dest)
        os.makedirs(os.path.join(tmp, "data", "out"))  # the initContainer's mkdir

        def pod(index):
            local = [re.sub(r"^/(models|data)(?=/|$)", lambda m: f"{tmp}/{m.group(1)}",
                            a.replace("$(JOB_COMPLETION_INDEX)", str(index))) for a in args]
            return subprocess.run([PTJS, "run", *local], capture_output=True, text=True, timeout=300)

        for index in list(range(n)) + [0]:  # index 0 twice: a retried pod resumes, adds nothing
            r = pod(index)
            self.assertEqual(r.returncode, 0, r.stderr)
        files = []
        for index in range(n):
            with open(os.path.join(tmp, "data", "out", f"part-{index}.jsonl")) as f:
                files += [json.loads(line)["file"] for line in f]
        self.assertEqual(sorted(files), sorted(images))


if __name__ == "__main__":
    unittest.main()
