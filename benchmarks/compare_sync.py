"""assetpub and `aws s3 sync` side by side, against one moto S3 server that counts requests.

    python -m benchmarks.compare_sync [--files 2000] [--reps 3] [--json-out FILE]
    python -m benchmarks.compare_sync --one-gb          # a build of one 1 GiB file
    python -m benchmarks.compare_sync --plot docs/performance-scaling.png [--plot-reps 1]
    python -m benchmarks.compare_sync --smoke           # CI: 100 files, 1 rep, every scenario
    python -m benchmarks.compare_sync --install-aws     # only find or install aws, print it

Both tools run as the command a CI job would run, in a subprocess: wall time is the command's,
client CPU is user+sys of its process tree, requests are what the server answered (the server
runs in its own process, so its CPU is not the client's; it does share the machine's cores).
Each tool has its own bucket. Every repetition empties both and replays the scenarios in order,
the tools taking turns to go first; the tables give medians. See docs/performance.md.

Scenarios, and what each measures:
  a  cold: the build into an empty prefix. Upload throughput and per-request overhead.
  b  CI rebuild: the same bytes in a fresh folder (new mtimes) into the prefix that has them.
     What "upload only what the origin lacks" saves: aws compares size and mtime, so it
     uploads everything again; assetpub compares content.
  c  CI rebuild with 20 files changed (10 lazy chunks, 10 plain images; new hashed names
     cascade to the entry chunk, theme.css and index.html), again in a fresh folder.
  d  the same folder published again, untouched: the floor of a no-op deploy (aws: stat and
     LIST; assetpub: its whole local phase, then LIST and a new release).
  e  assetpub rollback to b's release (no build folder; aws has no equivalent).
  f  assetpub gc --keep 1 --grace 0 after 11 publishes: 10 releases collected.
  g  the local phase alone, no S3: `sha256sum` over every file against `assetpub publish
     --dry-run` to an empty folder origin (scan, rename proof, rewrite, hashing, staging;
     Python's start and assetpub's imports included).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import DUMMY_AWS_ENV, free_port
from benchmarks.s3_server import REPO, CountingServer, ServerStats, counting_server
from benchmarks.synthetic import build_files, generate_build, generate_one_gb

BUCKETS = {"aws": "bench-aws", "assetpub": "bench-assetpub"}
TOOLS = ("aws", "assetpub")
PREFIX = "site"
CHANGED = 20  # files scenario c changes
EXPIRED = 10  # releases scenario f collects
AWS_VENV = REPO / "benchmarks" / ".aws-venv"
TIMEOUT = 3600  # seconds one tool run may take
KINDS = ("LIST", "GET", "HEAD", "PUT", "COPY", "MULTIPART", "DELETE", "DELETE_BATCH", "OTHER")

# What each scenario measures. The baseline of g is sha256sum, not aws.
SCENARIOS = {
    "a": "a cold: empty prefix, the whole build uploaded",
    "b": "b CI rebuild: same bytes, fresh mtimes",
    "c": f"c CI rebuild, {CHANGED} files changed",
    "d": "d re-run, folder untouched",
    "e": "e rollback (assetpub only)",
    "f": f"f gc of {EXPIRED} expired releases (assetpub only)",
    "g": "g local phase: sha256sum vs assetpub --dry-run",
}
ALL_SCENARIOS = "abcdefg"
ONE_GB_SCENARIOS = "abdg"  # a changed 1 GiB file is cold again; 11 GiB of history is too much
PLOT_SCENARIOS = "ab"


class ToolFailed(RuntimeError):
    """A measured command exited non-zero: the benchmark stops, showing its stderr."""


@dataclass(frozen=True)
class Measurement:
    """One run of one command: wall seconds, the CPU seconds of its process tree, its peak
    resident memory, what the server saw, and the command's stdout (assetpub's --json).

    Linux counts the forked image into ru_maxrss, so max_rss_mb is at least this harness's own
    RSS (about 50 MB): it tells a streaming tool from one that holds a file in memory."""

    wall: float
    cpu: float
    max_rss_mb: float
    server: ServerStats
    output: str

    def json(self) -> Any:
        return json.loads(self.output)


@dataclass
class Tally:
    """Every measurement, by scenario and tool, with medians."""

    runs: dict[str, dict[str, list[Measurement]]] = field(default_factory=dict)

    def add(self, scenario: str, tool: str, measurement: Measurement) -> Measurement:
        self.runs.setdefault(scenario, {}).setdefault(tool, []).append(measurement)
        return measurement

    def get(self, scenario: str, tool: str) -> list[Measurement]:
        return self.runs.get(scenario, {}).get(tool, [])

    def median(self, scenario: str, tool: str, metric: str) -> float | None:
        values = [_metric(m, metric) for m in self.get(scenario, tool)]
        return statistics.median(values) if values else None


def _metric(m: Measurement, metric: str) -> float:
    if metric == "wall":
        return m.wall
    if metric == "cpu":
        return m.cpu
    if metric == "server_cpu":
        return m.server.cpu
    if metric == "requests":
        return m.server.requests
    if metric == "bytes_in":
        return m.server.bytes_in
    return m.server.kinds.get(metric, 0)


@dataclass(frozen=True)
class Bench:
    """The server, the aws command, a scratch folder, and the environment both tools get."""

    server: CountingServer
    aws: tuple[str, ...]
    work: Path
    env: dict[str, str]

    def run(self, argv: Sequence[str], cwd: Path | None = None, stdin: bytes = b"") -> Measurement:
        """Run one command to completion and measure it (os.wait4: the CPU and peak memory of
        that process and of the children it waited for)."""
        before = self.server.stats()
        with tempfile.TemporaryFile() as given, tempfile.TemporaryFile() as out:
            given.write(stdin)
            given.seek(0)
            start = time.perf_counter()
            proc = subprocess.Popen(
                argv,
                stdin=given,
                stdout=out,
                stderr=subprocess.PIPE,
                cwd=cwd or self.work,
                env=self.env,
            )
            code, usage, errors = _wait(proc)
            wall = time.perf_counter() - start
            out.seek(0)
            output = out.read().decode(errors="replace")
        stats = self.server.stats() - before
        if code != 0:
            raise ToolFailed(f"{' '.join(argv)} exited {code}:\n{errors[-3000:]}")
        cpu = usage.ru_utime + usage.ru_stime
        return Measurement(wall, cpu, usage.ru_maxrss / 1024, stats, output)

    def assetpub(self, *args: str, s3: bool = True) -> Measurement:
        """`python -m assetpub -q ARGS [--endpoint-url URL] --json`, from this checkout."""
        endpoint = ("--endpoint-url", self.server.endpoint) if s3 else ()
        return self.run([sys.executable, "-m", "assetpub", "-q", *args, *endpoint, "--json"])

    def publish(self, tool: str, build: Path, prefix: str = PREFIX) -> Measurement:
        """Publish (assetpub) or sync (aws) `build` to the tool's bucket under `prefix`."""
        url = f"s3://{BUCKETS[tool]}/{prefix}"
        if tool == "assetpub":
            return self.assetpub("publish", str(build), "--origin", url)
        endpoint = self.server.endpoint
        sync = ["s3", "sync", str(build), url, "--endpoint-url", endpoint, "--only-show-errors"]
        return self.run([*self.aws, *sync])

    def local_phase(self, tool: str, build: Path) -> Measurement:
        """sha256sum over every file, or assetpub's whole local phase (scan, rename proof,
        rewrite, SHA-256 + MD5, staging) as `publish --dry-run` against an empty folder origin:
        no S3, no boto3 client; Python's start and assetpub's imports included."""
        if tool == "assetpub":
            empty = Path(tempfile.mkdtemp(prefix="empty-origin-", dir=self.work))
            return self.assetpub(
                "publish", str(build), "--origin", str(empty), "--dry-run", s3=False
            )
        paths = b"\0".join(str(p.relative_to(build)).encode() for p in build_files(build))
        return self.run(["xargs", "-0", "sha256sum", "--"], cwd=build, stdin=paths)


def _wait(proc: subprocess.Popen[bytes]) -> tuple[int, resource.struct_rusage, str]:
    """Wait for `proc` (killed after TIMEOUT); its exit code, rusage and stderr."""
    assert proc.stderr is not None
    watchdog = threading.Timer(TIMEOUT, proc.kill)
    watchdog.start()
    try:
        with proc.stderr:
            errors = proc.stderr.read().decode(errors="replace")  # until the process exits
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        watchdog.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage, errors


def tool_env() -> dict[str, str]:
    """This environment without any AWS_* or ASSETPUB_* setting of the developer's, plus the
    dummy credentials, and this checkout first on PYTHONPATH (an installed assetpub may be
    another checkout's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ASSETPUB_"))}
    env.update(DUMMY_AWS_ENV)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return env


def find_aws(explicit: str | None) -> tuple[str, ...]:
    """--aws, else `aws` on PATH or in benchmarks/.aws-venv (installed_aws), else
    benchmarks/.aws-venv/bin/aws, created on first use."""
    if explicit:
        return (explicit,)
    return installed_aws() or (str(aws_venv()),)


def installed_aws() -> tuple[str, ...] | None:
    """`aws` on PATH (a pyenv shim resolved to the script it runs, so the shim's bash is not
    measured), else benchmarks/.aws-venv/bin/aws if installed; None if neither, and nothing is
    installed (the tests ask this: they never reach the network)."""
    found = shutil.which("aws")
    if found and os.sep + "shims" + os.sep in found and shutil.which("pyenv"):
        real = subprocess.run(["pyenv", "which", "aws"], capture_output=True, text=True)
        found = real.stdout.strip() if real.returncode == 0 else found
    if found:
        return (found,)
    venv_aws = AWS_VENV / "bin" / "aws"
    return (str(venv_aws),) if venv_aws.exists() else None


def aws_venv() -> Path:
    """awscli in a venv of its own: it pins its own botocore, which must not replace the
    one boto3 (and so assetpub) uses."""
    aws = AWS_VENV / "bin" / "aws"
    if not aws.exists():
        print(f"installing awscli into {AWS_VENV} (first use)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(AWS_VENV)], check=True)
        pip = [str(AWS_VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "awscli"], check=True)
    return aws


@dataclass(frozen=True)
class Builds:
    """The base build, the build with CHANGED files changed, and the versions f publishes."""

    base: Path
    changed: Path | None
    history: tuple[Path, ...]

    @property
    def files(self) -> int:
        return sum(1 for _ in build_files(self.base))

    @property
    def bytes(self) -> int:
        return sum(p.stat().st_size for p in build_files(self.base))


def make_builds(work: Path, files: int, seed: int, one_gb: bool, scenarios: str) -> Builds:
    """Generate what the scenarios need, once per size (not timed)."""
    if one_gb:
        return Builds(generate_one_gb(work / "v0", seed), None, ())
    base = generate_build(work / "v0", files, seed)
    wanted = EXPIRED if "f" in scenarios else 1 if "c" in scenarios else 0
    versions = [
        generate_build(work / f"v{v}", files, seed, v, CHANGED) for v in range(1, wanted + 1)
    ]
    return Builds(base, versions[0] if versions else None, (base, *versions))


def fresh_copy(source: Path, target: Path) -> Path:
    """A CI rebuild: the same bytes in a new folder, every file with a new mtime.

    Returns once the clock has passed the next whole second, as a real build would be that
    old when its upload starts: LastModified has whole seconds, and `aws s3 sync` uploads any
    file newer than its object, so files uploaded in the second they were written would be
    uploaded again by every later sync of the untouched folder (scenario d)."""
    shutil.copytree(source, target, copy_function=shutil.copyfile)
    time.sleep(math.ceil(time.time()) - time.time() + 0.01)
    return target


def run_rep(bench: Bench, builds: Builds, rep: int, scenarios: str, tally: Tally) -> None:
    """One repetition of the scenarios, in order, from empty buckets."""
    empty_buckets(bench.server.endpoint)
    order = TOOLS if rep % 2 == 0 else TOOLS[::-1]
    folder = bench.work / f"rep{rep}"

    def each_tool(scenario: str, build: Path) -> None:
        for tool in order:
            tally.add(scenario, tool, bench.publish(tool, build))

    last = fresh_copy(builds.base, folder / "a")
    each_tool("a", last)
    if "b" in scenarios:
        last = fresh_copy(builds.base, folder / "b")
        each_tool("b", last)
    if "c" in scenarios and builds.changed:
        last = fresh_copy(builds.changed, folder / "c")
        each_tool("c", last)
    if "d" in scenarios:
        each_tool("d", last)
    if "e" in scenarios:
        tally.add("e", "assetpub", rollback(bench, tally.get("b", "assetpub")[-1]))
    if "f" in scenarios:
        tally.add("f", "assetpub", gc_history(bench, builds.history))
    if "g" in scenarios:
        for tool in order:
            baseline = "assetpub" if tool == "assetpub" else "sha256sum"
            tally.add("g", baseline, bench.local_phase(tool, last))
    shutil.rmtree(folder)


def rollback(bench: Bench, published: Measurement) -> Measurement:
    """e: make b's release live again, undoing the 20-file change (no build folder)."""
    release = published.json()["release"]
    origin = f"s3://{BUCKETS['assetpub']}/{PREFIX}"
    return bench.assetpub("rollback", release, "--origin", origin)


def gc_history(bench: Bench, history: Sequence[Path]) -> Measurement:
    """f: publish EXPIRED + 1 versions under their own prefix (not measured), then collect
    every release but the newest, with no grace period."""
    origin = f"s3://{BUCKETS['assetpub']}/gc"
    for build in history:
        bench.assetpub("publish", str(build), "--origin", origin)
    result = bench.assetpub("gc", "--origin", origin, "--keep", "1", "--grace", "0")
    collected = result.json()["origins"][0]["collected_releases"]
    if len(collected) != len(history) - 1:
        raise ToolFailed(f"gc collected {len(collected)} releases, not {len(history) - 1}")
    return result


def empty_buckets(endpoint: str) -> None:
    """Create both buckets, or delete everything in them (not measured)."""
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint)
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    for bucket in BUCKETS.values():
        if bucket not in existing:
            client.create_bucket(Bucket=bucket)
            continue
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})


@dataclass(frozen=True)
class Size:
    """The results for one build: what it was, and the tally of its scenarios."""

    label: str
    files: int
    bytes: int
    reps: int
    scenarios: str
    tally: Tally


def measure(
    bench: Bench, files: int, seed: int, reps: int, scenarios: str, one_gb: bool = False
) -> Size:
    """Generate the builds and run every repetition of the scenarios on them."""
    folder = bench.work / (f"one-gb-{seed}" if one_gb else f"{files}-{seed}")
    builds = make_builds(folder / "builds", files, seed, one_gb, scenarios)
    label = "one 1 GiB file" if one_gb else f"{builds.files:,} files"
    print(f"{label}, {builds.bytes / 1e6:,.0f} MB, {reps} rep(s): {scenarios}", file=sys.stderr)
    tally = Tally()
    for rep in range(reps):
        run_rep(bench, builds, rep, scenarios, tally)
    size = Size(label, builds.files, builds.bytes, reps, scenarios, tally)
    shutil.rmtree(folder)
    return size


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def _ratio(ours: float | None, theirs: float | None) -> str:
    return "—" if ours is None or not theirs else f"{ours / theirs:.2f}"


def _count(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def baseline_of(scenario: str) -> str:
    return "sha256sum" if scenario == "g" else "aws"


def markdown_table(size: Size) -> str:
    """The comparison: medians, ratio = assetpub / aws (below 1, assetpub is faster)."""
    lines = [
        "| scenario | aws wall | assetpub wall | ratio | aws CPU | assetpub CPU | CPU ratio "
        "| requests (aws / assetpub) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    tally = size.tally
    for key in size.scenarios:
        base = baseline_of(key)
        wall = [tally.median(key, tool, "wall") for tool in (base, "assetpub")]
        cpu = [tally.median(key, tool, "cpu") for tool in (base, "assetpub")]
        requests = [tally.median(key, tool, "requests") for tool in (base, "assetpub")]
        requests_cell = "—" if key == "g" else f"{_count(requests[0])} / {_count(requests[1])}"
        lines.append(
            f"| {SCENARIOS[key]} | {_seconds(wall[0])} | {_seconds(wall[1])} "
            f"| {_ratio(wall[1], wall[0])} | {_seconds(cpu[0])} | {_seconds(cpu[1])} "
            f"| {_ratio(cpu[1], cpu[0])} | {requests_cell} |"
        )
    return "\n".join(lines)


def requests_table(size: Size) -> str:
    """What the server answered, by kind (medians), the MB sent to it and its CPU."""
    header = " | ".join(KINDS)
    lines = [
        f"| scenario | tool | {header} | MB sent | server CPU |",
        "| --- | --- |" + " ---: |" * (len(KINDS) + 2),
    ]
    for key in size.scenarios.replace("g", ""):
        for tool in TOOLS:
            if not size.tally.get(key, tool):
                continue
            counts = " | ".join(_count(size.tally.median(key, tool, kind)) for kind in KINDS)
            sent = (size.tally.median(key, tool, "bytes_in") or 0) / 1e6
            server = _seconds(size.tally.median(key, tool, "server_cpu"))
            lines.append(f"| {key} | {tool} | {counts} | {sent:,.1f} | {server} |")
    return "\n".join(lines)


def size_json(size: Size) -> dict[str, Any]:
    """Every repetition's figures, and the medians, for one build."""
    scenarios: dict[str, Any] = {}
    for key in size.scenarios:
        tools: dict[str, Any] = {}
        for tool, runs in size.tally.runs.get(key, {}).items():
            tools[tool] = {
                "median_wall": size.tally.median(key, tool, "wall"),
                "median_cpu": size.tally.median(key, tool, "cpu"),
                "median_requests": size.tally.median(key, tool, "requests"),
                "runs": [_run_json(m) for m in runs],
            }
        scenarios[key] = {"title": SCENARIOS[key], "baseline": baseline_of(key), "tools": tools}
    return {
        "build": size.label,
        "files": size.files,
        "bytes": size.bytes,
        "reps": size.reps,
        "scenarios": scenarios,
    }


def _run_json(m: Measurement) -> dict[str, Any]:
    return {
        "wall": round(m.wall, 4),
        "cpu": round(m.cpu, 4),
        "max_rss_mb": round(m.max_rss_mb, 1),
        "server_cpu": round(m.server.cpu, 4),
        "requests": m.server.requests,
        "kinds": dict(m.server.kinds),
        "methods": dict(m.server.methods),
        "statuses": dict(m.server.statuses),
        "bytes_in": m.server.bytes_in,
        "assetpub": m.json() if m.output.startswith("{") else None,  # its --json report
    }


def machine(aws: Sequence[str]) -> dict[str, Any]:
    """What the figures were measured on."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    aws_version = subprocess.run([*aws, "--version"], capture_output=True, text=True)
    import moto

    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "aws": (aws_version.stdout or aws_version.stderr).strip(),
        "moto": moto.__version__,
    }


def plot_scaling(sizes: Sequence[Size], path: Path) -> None:
    """Publish wall time (median) against file count, scenarios a and b, both tools."""
    try:
        import matplotlib
    except ImportError:
        raise SystemExit("--plot needs matplotlib: pip install -e '.[bench]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    styles = {"aws": "tab:orange", "assetpub": "tab:blue"}
    for tool in TOOLS:
        for key, line in (("a", "-"), ("b", "--")):
            points = [(s.files, s.tally.median(key, tool, "wall")) for s in sizes]
            xs = [x for x, y in points if y is not None]
            ys = [y for _, y in points if y is not None]
            label = f"{tool}: {SCENARIOS[key][2:]}"
            axes.plot(xs, ys, line, marker="o", color=styles[tool], label=label)
    axes.set_xscale("log")
    axes.set_yscale("log")
    counts = sorted({s.files for s in sizes})
    axes.set_xticks(counts, [f"{n:,}" for n in counts], minor=False)
    axes.tick_params(axis="x", which="minor", labelbottom=False)
    axes.set_xlabel("files in the build (about 50 KB each)")
    axes.set_ylabel("wall time, s (median)")
    axes.set_title("Publishing to a moto S3 server on loopback (2 cores)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


@contextmanager
def bench_session(aws: tuple[str, ...]) -> Iterator[Bench]:
    """One fresh server and scratch folder for the whole run; the tools warmed up once."""
    with (
        counting_server(free_port()) as server,
        tempfile.TemporaryDirectory(prefix="compare-sync-") as work,
    ):
        bench = Bench(server, aws, Path(work), tool_env())
        for argv in ([*aws, "--version"], [sys.executable, "-m", "assetpub", "--version"]):
            bench.run(argv)  # load both tools' code into the page cache
        yield bench


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="assetpub and `aws s3 sync` side by side on a moto S3 server."
    )
    parser.add_argument("--files", type=int, default=2000, help="build size (about 50 KB/file)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reps", type=int, default=3, help="repetitions (medians reported)")
    parser.add_argument(
        "--one-gb", action="store_true", help="a build of one 1 GiB file (scenarios a, b, d, g)"
    )
    parser.add_argument("--aws", help="the aws command (default: PATH, else benchmarks/.aws-venv)")
    parser.add_argument("--json-out", type=Path, help="write every figure as JSON here")
    parser.add_argument("--plot", type=Path, help="sweep --plot-sizes (a and b), plot to a PNG")
    parser.add_argument("--plot-sizes", default="200,2000,20000", help="file counts to sweep")
    parser.add_argument(
        "--plot-reps", help="repetitions per size, e.g. 3 or 3,3,1 (default: --reps)"
    )
    parser.add_argument("--smoke", action="store_true", help="100 files, 1 rep: CI's check")
    parser.add_argument(
        "--install-aws",
        action="store_true",
        help="only find aws (installing it into benchmarks/.aws-venv if needed), print it, exit",
    )
    return parser.parse_args(argv)


def run(args: argparse.Namespace, bench: Bench) -> list[Size]:
    """The sizes and scenarios the flags ask for."""
    if args.smoke:
        return [measure(bench, 100, args.seed, 1, ALL_SCENARIOS)]
    if args.plot:
        counts = [int(n) for n in args.plot_sizes.split(",")]
        reps = [int(n) for n in (args.plot_reps or str(args.reps)).split(",")]
        reps += [reps[-1]] * (len(counts) - len(reps))  # the last count repeats
        return [
            measure(bench, n, args.seed, r, PLOT_SCENARIOS)
            for n, r in zip(counts, reps, strict=False)
        ]
    scenarios = ONE_GB_SCENARIOS if args.one_gb else ALL_SCENARIOS
    return [measure(bench, args.files, args.seed, args.reps, scenarios, args.one_gb)]


def check_smoke(size: Size) -> None:
    """Every scenario ran, for every tool it has (a failed command has already stopped us)."""
    missing = [
        f"{key}/{tool}"
        for key in ALL_SCENARIOS
        for tool in ((baseline_of(key), "assetpub") if key not in "ef" else ("assetpub",))
        if not size.tally.get(key, tool)
    ]
    if missing:
        raise SystemExit(f"smoke: no result for {', '.join(missing)}")
    print(f"smoke: all {len(ALL_SCENARIOS)} scenarios ran; every command exited 0")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    aws = find_aws(args.aws)
    if args.install_aws:  # CI, before the tests (tests/test_rolling_deploy.py runs aws)
        print(" ".join(aws))
        return
    started = time.perf_counter()
    load_before = os.getloadavg()
    try:
        with bench_session(aws) as bench:
            sizes = run(args, bench)
    except ToolFailed as failure:
        raise SystemExit(str(failure)) from None
    for size in sizes:
        print(f"\n### {size.label}, {size.bytes / 1e6:,.0f} MB, {size.reps} rep(s)\n")
        print(markdown_table(size))
        print("\nRequests the server answered, by kind (medians):\n")
        print(requests_table(size))
    elapsed = time.perf_counter() - started
    print(f"\n(benchmark took {elapsed:.0f} s)")
    if args.smoke:
        check_smoke(sizes[0])
    if args.plot:
        plot_scaling(sizes, args.plot)
        print(f"plot: {args.plot}")
    if args.json_out:
        report = {
            "command": "python -m benchmarks.compare_sync " + " ".join(argv or sys.argv[1:]),
            "machine": machine(aws),
            "seconds": round(elapsed, 1),
            # Other work on the machine: 1-minute load average before and after the run.
            "load_average": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
            "sizes": [size_json(size) for size in sizes],
        }
        args.json_out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
