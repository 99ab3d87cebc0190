"""`repro compare` on ~1 GB OCI tars made by the real engine, against sha256sum and diffoscope.

Targets (issues 8 and 12): compare reads every blob of both sides (equal ones too), so
on two ~1 GB tars that differ in one file of the last layer, and on two identical ones
(same digest), at least 0.7x the speed of `sha256sum` over both files (measured in the
same run); identical images with --trust-digests (nothing but A's manifest and config
read) under 100 ms; peak RSS of the compare process under 200 MB, also on a 2 GB layer.
Also measured, without a target: --trust-digests on the pair that differs in one file
(only the last layer is read), a pair whose every layer differs (built without
rewrite-timestamp, so every byte of both tars is streamed and hashed), and diffoscope on
the first pair (its time, and whether its output names the file).

The images are built once into $REPRO_BENCH_DIR (default /tmp/repro-bench-compare) and
reused by later runs; delete the directory to rebuild them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import Result, register

REPRO = str(Path(sys.executable).parent / "repro")
WORK = Path(os.environ.get("REPRO_BENCH_DIR", Path(tempfile.gettempdir()) / "repro-bench-compare"))
ROUNDS = int(os.environ.get("REPRO_BENCH_ROUNDS", "3"))
EPOCH = "1700000000"
LAYER_BYTES = 256 << 20

# Four 256 MiB layers of deterministic bytes, then one small file that differs (MARK).
GIGABYTE = f"""FROM localhost:5000/library/busybox:1.35
RUN yes 1111111111111111111111111111111 | head -c {LAYER_BYTES} > /layer-1
RUN yes 2222222222222222222222222222222 | head -c {LAYER_BYTES} > /layer-2
RUN yes 3333333333333333333333333333333 | head -c {LAYER_BYTES} > /layer-3
RUN yes 4444444444444444444444444444444 | head -c {LAYER_BYTES} > /layer-4
ARG MARK=a
RUN echo "$MARK" > /mark.txt
"""
# One 2 GiB layer (gzip: a small blob that streams 2 GiB of tar); MARK makes it differ.
TWO_GIGABYTES = f"""FROM localhost:5000/library/busybox:1.35
ARG MARK=a
RUN echo "$MARK" > /mark.txt && yes 5555555555555555555555555555555 | head -c {2 << 30} > /big
"""


def _build(dockerfile: str, dest: Path, *, mark: str, output: str) -> Path:
    if dest.exists():
        return dest
    context = WORK / f"context-{abs(hash(dockerfile))}"
    context.mkdir(parents=True, exist_ok=True)
    (context / "Dockerfile").write_text(dockerfile)
    partial = dest.with_suffix(".partial")
    subprocess.run(
        [
            "docker",
            "buildx",
            "build",
            "--quiet",
            "--provenance=false",
            "--sbom=false",
            "--build-arg",
            f"SOURCE_DATE_EPOCH={EPOCH}",
            "--build-arg",
            f"MARK={mark}",
            "--output",
            f"type=oci,dest={partial},{output}",
            str(context),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    partial.rename(dest)
    return dest


def _timed(
    command: list[str], *, timeout: float = 900
) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    return time.perf_counter() - started, done


_MAX_RSS = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")


def _peak_rss_mb(command: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Peak RSS of ``command`` in MiB, by /usr/bin/time -v."""
    done = subprocess.run(
        ["/usr/bin/time", "-v", *command], capture_output=True, text=True, check=False
    )
    found = _MAX_RSS.search(done.stderr)
    if found is None:
        raise RuntimeError(f"/usr/bin/time -v gave no peak RSS: {done.stderr[-500:]}")
    return int(found.group(1)) / 1024, done


def _best(
    command: list[str], rounds: int = ROUNDS
) -> tuple[float, subprocess.CompletedProcess[str]]:
    runs = [_timed(command) for _ in range(rounds)]
    return min(runs, key=lambda run: run[0])


def _identical_in_process(a: Path, b: Path, *, trust_digests: bool, rounds: int = 5) -> float:
    from repro.oci import compare_images, open_image

    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        comparison = compare_images(open_image(a), open_image(b), trust_digests=trust_digests)
        times.append(time.perf_counter() - started)
        assert comparison.verdict == "identical"
        assert comparison.blobs.trust_digests is trust_digests
    return min(times)


def _diffoscope(result: Result, a: Path, b: Path) -> None:
    binary = shutil.which("diffoscope")
    if binary is None:
        result.add("diffoscope", "not installed (apt-get install diffoscope-minimal failed)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.txt"
        try:
            seconds, _ = _timed([binary, "--text", str(report), str(a), str(b)], timeout=1800)
        except subprocess.TimeoutExpired:
            result.add("diffoscope s", "> 1800 (timed out)")
            return
        text = report.read_text(errors="replace") if report.exists() else ""
    result.add("diffoscope s", round(seconds, 2))
    result.add("diffoscope names /mark.txt", "mark.txt" in text)
    result.add("diffoscope report lines", len(text.splitlines()))


@register("compare")
def bench_compare() -> Result:
    result = Result("compare: repro compare on ~1 GB OCI tars (uncompressed layers)")
    WORK.mkdir(parents=True, exist_ok=True)
    uncompressed = "compression=uncompressed,rewrite-timestamp=true"
    a = _build(GIGABYTE, WORK / "a.tar", mark="a", output=uncompressed)
    b = _build(GIGABYTE, WORK / "b.tar", mark="b", output=uncompressed)
    every = _build(GIGABYTE, WORK / "no-rewrite.tar", mark="a", output="compression=uncompressed")
    big_a = _build(TWO_GIGABYTES, WORK / "big-a.tar", mark="a", output="rewrite-timestamp=true")
    big_b = _build(TWO_GIGABYTES, WORK / "big-b.tar", mark="b", output="rewrite-timestamp=true")
    same = WORK / "a-again.tar"
    if not same.exists():
        os.link(a, same)
    total_mb = (a.stat().st_size + b.stat().st_size) / (1 << 20)
    result.add("tar sizes MiB (A + B)", round(total_mb))

    subprocess.run(["sha256sum", str(a), str(b), str(every)], capture_output=True, check=True)
    sha, _ = _best(["sha256sum", str(a), str(b)])
    compare, done = _best([REPRO, "compare", str(a), str(b)])
    assert done.returncode == 1 and "/mark.txt" in done.stdout, done.stdout + done.stderr
    result.add("sha256sum A B s", round(sha, 3))
    result.add("repro compare A B s (one file differs)", round(compare, 3))
    ratio = sha / compare
    result.add("compare speed / sha256sum speed", round(ratio, 2), ">= 0.70", ok=ratio >= 0.7)
    trusted, done = _best([REPRO, "compare", "--trust-digests", str(a), str(b)])
    assert done.returncode == 1 and "/mark.txt" in done.stdout, done.stdout + done.stderr
    result.add("repro compare --trust-digests A B s (one file differs)", round(trusted, 3))

    sha_every, _ = _best(["sha256sum", str(a), str(every)])
    full, done = _best([REPRO, "compare", "--max-diffs", "3", str(a), str(every)], rounds=2)
    assert done.returncode == 1, done.stdout + done.stderr
    result.add("sha256sum A C s", round(sha_every, 3))
    result.add("repro compare A C s (every layer differs)", round(full, 3))
    result.add("  every-layer speed / sha256sum speed", round(sha_every / full, 2))

    sha_same, _ = _best(["sha256sum", str(a), str(same)])
    verified = _identical_in_process(a, same, trust_digests=False, rounds=ROUNDS)
    result.add("sha256sum A A' s", round(sha_same, 3))
    result.add("identical (same digest), every blob read, in-process s", round(verified, 3))
    same_ratio = sha_same / verified
    result.add(
        "  identical speed / sha256sum speed", round(same_ratio, 2), ">= 0.70", ok=same_ratio >= 0.7
    )
    in_process = _identical_in_process(a, same, trust_digests=True)
    result.add(
        "identical (same digest), --trust-digests, in-process ms",
        round(in_process * 1000, 1),
        "< 100",
        ok=in_process < 0.1,
    )
    cli_identical, done = _best([REPRO, "compare", "--trust-digests", str(a), str(same)])
    assert done.returncode == 0, done.stdout + done.stderr
    result.add("identical, --trust-digests, whole CLI process ms", round(cli_identical * 1000))

    for label, pair in (
        ("A B", (a, b)),
        ("A C (every layer)", (a, every)),
        ("2 GiB layer", (big_a, big_b)),
    ):
        rss, done = _peak_rss_mb([REPRO, "compare", "--max-diffs", "3", *map(str, pair)])
        assert done.returncode == 1, done.stdout + done.stderr[-2000:]
        result.add(f"peak RSS MiB, {label}", round(rss, 1), "< 200", ok=rss < 200)
    big_seconds, _ = _timed([REPRO, "compare", str(big_a), str(big_b)])
    result.add("repro compare 2 GiB layer s", round(big_seconds, 2))

    _diffoscope(result, a, b)
    return result
