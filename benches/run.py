#!/usr/bin/env python3
"""Runs every benchmark of this repository and its peers in one go and writes BENCHMARKS.md.

    python3 -m venv .venv && .venv/bin/pip install torch numpy threadpoolctl onnx onnxruntime
    .venv/bin/python benches/run.py                      # everything: about fifteen minutes

Steps, all but the last on one CPU (the first this process may use), one thread each:

1. `cargo bench --bench workloads` (criterion): the median of every workload, ours and the
   plain-ndarray baseline; `cargo bench --bench ratios -- --json`: the ratio goals within one
   process (M2, M3 against streaming their bytes; D1; T1 against the toy written by hand).
2. The peers (benches/peers/torch_peer.py, benches/peers/numpy_peer.py) on every workload, and
   onnxruntime (benches/peers/onnxruntime_peer.py) on the int8 ones, with its default threads
   (it widens its affinity to every core again) and with one.
3. The goals against peers (B1 against numpy and PyTorch, TR against PyTorch) in ROUNDS
   rounds, each timing ours (criterion) and then the peers; the ratio of a goal is the median
   of its rounds' ratios, because this machine's speed drifts between minutes.
4. The macro expansion benchmark (`cargo bench --bench expand`) and the build-time
   measurement (benches/compile_time.py).
5. On every core: `cargo bench --bench ratios -- --threads` (the `parallel` passes against one
   thread), then the peers at their default thread counts on B1, TR and the int8 batch, against
   our passes on every core.

The peers run without `OPENBLAS_CORETYPE` and `OPENBLAS_L2_SIZE`, so that OpenBLAS chooses its
own kernel for this CPU (numpy reports which); the rest of the environment is untouched.
Peers that cannot be imported are reported as not run.
"""

import datetime
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
BENCH = ROOT / "benches"
ROUNDS = 5
# Where the goals stand on the other kind of CPU, from this file's history. Rewrite it when the
# machine of a run changes.
OTHER_MACHINES = """The kernels are chosen at run time, so the same code meets its goals differently on other CPUs.
The last full run on an AVX-512 machine (an Intel Xeon) is this file at commit 8da42de (every
goal of its time met: B1 1.15× numpy and 1.05× PyTorch, TR 2.57×); the int8 rows (Q2 0.32×, QB
2.15× the f32 throughput, with `vpdpbusd`) and the threads (P1 1.92×) were added from a Zen 4
with AVX-512 at 9ad7b56 and 3882ef7. This run is on a Zen 3 with AVX2 only.
"""

B1_FLOPS = 2 * 1024 * (784 * 128 + 128 * 10)
# The extensions that decide which kernels run (see `dropout::InstructionSet`).
VECTOR_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512_vnni")


def run(cmd, env=None, **kwargs):
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, cwd=ROOT, check=True, text=True, env=env, **kwargs)


def target_dir():
    """Where cargo builds (and criterion writes), wherever CARGO_TARGET_DIR points."""
    metadata = run(["cargo", "metadata", "--format-version", "1", "--no-deps"], capture_output=True)
    return pathlib.Path(json.loads(metadata.stdout)["target_directory"])


def criterion_median(name):
    path = target_dir() / "criterion" / name / "new" / "estimates.json"
    return json.loads(path.read_text())["median"]["point_estimate"]


def peer_env():
    env = dict(os.environ)
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(var, None)
    return env


def peer(script, *workloads):
    try:
        result = run([sys.executable, str(BENCH / "peers" / script), *workloads], env=peer_env(),
                     capture_output=True)
        return json.loads(result.stdout)
    except (subprocess.CalledProcessError, json.JSONDecodeError) as err:
        print(f"{script} did not run: {err}", file=sys.stderr)
        return None


def fmt_time(ns):
    if ns is None:
        return "—"
    if ns < 1e3:
        return f"{ns:.1f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns / 1e6:.3f} ms"


def speedup(ours, theirs):
    if ours is None or theirs is None:
        return "—"
    return f"{theirs / ours:.1f}×"


def machine():
    model, flags = "unknown CPU", set()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model == "unknown CPU":
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    vector = ", ".join(f for f in VECTOR_FLAGS if f in flags) or "none of " + ", ".join(VECTOR_FLAGS)
    rustc = run(["rustc", "--version"], capture_output=True).stdout.strip()
    return f"{model}, {os.cpu_count()} cores", vector, f"{platform.system()} {platform.release()}; {rustc}"


def peer_rounds():
    """B1 and TR against the peers, ROUNDS times: (ours, numpy, torch) medians per round."""
    rounds = []
    for _ in range(ROUNDS):
        run(["cargo", "bench", "--bench", "workloads", "--", "--warm-up-time", "2", "--measurement-time", "4",
             "^(B1|TR)/dropout$"])
        ours = {key: criterion_median(f"{key}_dropout") for key in ("B1", "TR")}
        numpy = (peer("numpy_peer.py", "B1") or {}).get("median_ns", {})
        torch = (peer("torch_peer.py", "B1", "TR") or {}).get("median_ns", {})
        rounds.append((ours, numpy, torch))
    return rounds


def round_ratio(rounds, key, side):
    """The median over rounds of peer time / our time (how many times faster we are)."""
    ratios = [peers[side][key] / ours[key] for ours, *peers in rounds if key in peers[side]]
    return statistics.median(ratios) if ratios else None


def threads_round():
    """On every core: P1–P5 against one thread; then B1 and TR against the peers at their default
    thread counts, ROUNDS alternating rounds as for one thread; then onnxruntime."""
    ratios = json.loads(run(["cargo", "bench", "--bench", "ratios", "--", "--json", "--threads"],
                            capture_output=True).stdout)
    rounds = []
    for _ in range(ROUNDS):
        run(["cargo", "bench", "--bench", "workloads", "--", "--warm-up-time", "2", "--measurement-time", "4",
             "^(B1|TR)/threads$"])
        ours = {key: criterion_median(f"{key}_threads") for key in ("B1", "TR")}
        numpy = peer("numpy_peer.py", "--default-threads", "B1") or {}
        torch = peer("torch_peer.py", "--default-threads", "B1", "TR") or {}
        rounds.append((ours, numpy, torch))
    onnx = (peer("onnxruntime_peer.py") or {})
    return ratios["ratios"], rounds, onnx


def main():
    everything = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(everything)})
    run(["cargo", "bench", "--bench", "workloads"])
    names = {
        "T1": "T1_dropout", "T1/by_hand": "T1_by_hand", "T1/ndarray": "T1_ndarray",
        "T2": "T2_dropout", "T2/ndarray": "T2_ndarray",
        "M2": "M2_dropout", "M2/ndarray": "M2_ndarray", "L2/M2": "L2_M2",
        "M3": "M3_dropout", "M3/ndarray": "M3_ndarray", "L2/M3": "L2_M3",
        "B1": "B1_dropout", "B1/ndarray": "B1_ndarray",
        "D1/p0.5": "D1_p0.5", "D1/p0": "D1_p0", "D1/block": "D1_half_in_one_block",
        "TR": "TR_dropout",
    }
    ours = {key: criterion_median(name) for key, name in names.items()}
    ratios = json.loads(run(["cargo", "bench", "--bench", "ratios", "--", "--json", "--one-thread"],
                            capture_output=True).stdout)
    torch = peer("torch_peer.py")
    numpy = peer("numpy_peer.py")
    onnx_result = peer("onnxruntime_peer.py") or {}
    onnx = onnx_result.get("median_ns", {})
    onnx_version = onnx_result.get("onnxruntime", "—")
    t = (torch or {}).get("median_ns", {})
    n = (numpy or {}).get("median_ns", {})
    rounds = peer_rounds()
    b1_numpy = round_ratio(rounds, "B1", 0)
    b1_torch = round_ratio(rounds, "B1", 1)
    tr_torch = round_ratio(rounds, "TR", 1)
    run(["cargo", "bench", "--bench", "expand"])
    expand_ns = criterion_median("C1_expand_100k_weights")
    # The firmware's footprint on the emulated microcontrollers (tests/firmware.rs writes it).
    firmware_env = dict(os.environ, DROPOUT_REQUIRE_FIRMWARE="1")
    run(["cargo", "test", "--release", "--test", "firmware"], env=firmware_env)
    footprint = (target_dir() / "tmp" / "firmware" / "footprint.md").read_text()
    compile_time = json.loads(run([sys.executable, str(BENCH / "compile_time.py")], capture_output=True).stdout)
    os.sched_setaffinity(0, everything)
    parallel, default_rounds, onnx_default = threads_round()

    cpu, vector, system = machine()
    isa = ratios["instruction_set"]
    gflops = lambda ns: B1_FLOPS / ns  # noqa: E731  (FLOP per ns = GFLOP/s)
    r = ratios["ratios"]

    def ratio_row(id_, workload, ratio, goal, reference, kernel, below=True):
        met = ratio <= goal if below else ratio >= goal
        sign = "≤" if below else "≥"
        return f"| {id_} | {workload} | {sign} {goal}× | {ratio:.2f}× | {reference} | {'yes' if met else 'no'} | {kernel} |"

    def peer_row(id_, workload, ratio, goal, peer_name):
        if ratio is None:
            return f"| {id_} | {workload} | ≥ {goal}× | — | {peer_name} did not run | no | matrix product, {isa} |"
        return (f"| {id_} | {workload} | ≥ {goal}× | {ratio:.2f}× | {peer_name}, median of {ROUNDS} alternating "
                f"rounds | {'yes' if ratio >= goal else 'no'} | matrix product, {isa} |")

    goals = "\n".join([
        "| id | workload | goal | measured | against | goal met | our kernel |",
        "|---|---|---|---|---|---|---|",
        ratio_row("M2", "784-128-10, one evaluation", r["M2"]["ratio"], 1.3,
                  f"streaming {r['M2']['what'].split('its ')[1].split(' bytes')[0]} bytes from L2: "
                  f"{fmt_time(r['M2']['ours_ns'])} vs {fmt_time(r['M2']['reference_ns'])}", isa),
        ratio_row("M3", "64-256-256-10, one evaluation", r["M3"]["ratio"], 1.3,
                  f"streaming {r['M3']['what'].split('its ')[1].split(' bytes')[0]} bytes from L2: "
                  f"{fmt_time(r['M3']['ours_ns'])} vs {fmt_time(r['M3']['reference_ns'])}", isa),
        ratio_row("D1", "784-128-10 masked pass, p = 0.5", r["D1"]["ratio"], 0.6,
                  f"the same pass at p = 0: {fmt_time(r['D1']['ours_ns'])} vs {fmt_time(r['D1']['reference_ns'])}",
                  f"kept rows only, {isa}"),
        ratio_row("T1", "toy 2-3-3-2-1, one evaluation", r["T1"]["ratio"], 1.1,
                  f"the toy written by hand: {fmt_time(r['T1']['ours_ns'])} vs {fmt_time(r['T1']['reference_ns'])}",
                  "inlined (32 weights: no dispatch)"),
        peer_row("B1", "784-128-10, batch of 1024", b1_numpy, 1.0, "numpy"),
        peer_row("B1", "784-128-10, batch of 1024", b1_torch, 1.0, "PyTorch"),
        peer_row("TR", "training step 64-256-256-10, batch 64", tr_torch, 2.0, "PyTorch"),
        f"| T2 | toy, 4096 samples batched | ahead of 1.6 ns/sample | {ours['T2'] / 4096:.2f} ns/sample | — | "
        f"{'yes' if ours['T2'] / 4096 < 1.6 else 'no'} | lane-parallel, {isa} |",
        "| A1 | heap allocations in a single-sample pass | 0 | 0 | asserted by tests/allocations.rs | yes | — |",
        f"| C1 | 101,632 literal weights | ≤ 3 s extra release build; expansion ≤ 0.5 s | "
        f"{compile_time['extra_build_s']:.2f} s; {fmt_time(expand_ns)} | benches/compile_time.py, benches/expand.rs | "
        f"{'yes' if compile_time['extra_build_s'] <= 3 and expand_ns <= 5e8 else 'no'} | — |",
        f"| C1/file | {compile_time['file_weights']:,} weights from a safetensors file | ≤ 3 s extra release build | "
        f"{compile_time['file_extra_build_s']:.2f} s | benches/compile_time.py | "
        f"{'yes' if compile_time['file_extra_build_s'] <= 3 else 'no'} | — |",
    ])

    def ns(key):
        return onnx.get(key)

    cores = os.cpu_count() or 1

    def ort_default(key):
        return onnx_default.get("median_ns", {}).get(key)

    def met(ours_ns, theirs_ns):
        return "yes" if ours_ns and theirs_ns and theirs_ns >= ours_ns else "no"

    # QB/peak (where the int8 kernels run on AVX2): the int8 batch's ceiling, in throughput.
    peak = round(1 / r['QB/peak']['ratio'], 2) if 'QB/peak' in r else None
    int8 = "\n".join([
        "| id | workload | ours | against | ratio | goal | goal met |",
        "|---|---|---|---|---|---|---|",
        f"| Q2 | 784-128-10, one sample, `forward_quantized` | {fmt_time(r['Q2']['ours_ns'])} | "
        f"f32 `forward`, {fmt_time(r['Q2']['reference_ns'])} | {r['Q2']['ratio']:.2f}× | ≤ 0.4× | "
        f"{'yes' if r['Q2']['ratio'] <= 0.4 else 'no'} |",
        f"| QB | 784-128-10, batch of 1024, `forward_quantized_batch` | {fmt_time(r['QB']['ours_ns'])} | "
        f"f32 `forward_batch`, {fmt_time(r['QB']['reference_ns'])} | {1 / r['QB']['ratio']:.2f}× the throughput | ≥ 2× | "
        f"{'yes' if r['QB']['ratio'] <= 0.5 else 'no'} |",
        f"| QB/ort | the same batch in onnxruntime int8 at its default threads ({cores}), ours on {cores} "
        f"(`parallel::slices`, P5) | {fmt_time(parallel['P5']['ours_ns'])} | "
        f"{fmt_time(ort_default('int8 batch 1024, default'))} | "
        f"{speedup(parallel['P5']['ours_ns'], ort_default('int8 batch 1024, default'))} | ≥ 1.0× | "
        f"{met(parallel['P5']['ours_ns'], ort_default('int8 batch 1024, default'))} |",
        f"| QB/ort1 | the same on one thread each | {fmt_time(r['QB']['ours_ns'])} | "
        f"{fmt_time(ns('int8 batch 1024, 1 thread'))} | {speedup(r['QB']['ours_ns'], ns('int8 batch 1024, 1 thread'))} | — | — |",
    ] + ([
        f"| QB/peak | the ceiling of QB on this CPU: 32 int8 products as 2 `vpmaddwd` + 2 `vpaddd`, 128,000 in registers | "
        f"{fmt_time(r['QB/peak']['ours_ns'])} | 32 `f32` products as 4 FMAs, 128,000: {fmt_time(r['QB/peak']['reference_ns'])} | "
        f"{peak:.2f}× the throughput | — | — |",
    ] if peak else []))

    int8_note = (
        "\nQB/peak, timed like the goals (`benches/ratios.rs`, `int8_peak`), compares the instructions alone\n"
        "where the int8 kernels run on AVX2: exact int8 products cost a multiply and an add for every 16\n"
        "of them, where an FMA does 8 `f32` at once. Were both batches at their instructions' peak, QB\n"
        f"would be {peak:.2f}× the `f32` throughput; it measures more only as far as the `f32` batch runs\n"
        "further below its peak than the int8 one, and it reaches 2× only with the `f32` batch at less\n"
        f"than {peak / 2:.3g} of its peak ({peak:.2f} / 2). With AVX-512 VNNI (`vpdpbusd`, 64 products that add as\n"
        "they multiply) the goal was met (the top of this file).\n"
        if peak else ""
    )

    small = "\n".join(
        ["| id | workload | batch | loop of single passes | batch / loop | goal ≤ 0.67× met |", "|---|---|---|---|---|---|"]
        + [
            f"| {k} | {r[k]['what'].split(',')[0]} | {fmt_time(r[k]['ours_ns'])} | {fmt_time(r[k]['reference_ns'])} | "
            f"{r[k]['ratio']:.2f}× | {'yes' if r[k]['ratio'] <= 1 / 1.5 else 'no'} |"
            for k in ("S1", "S2", "S3", "S4", "S5", "S6")
        ]
    )

    threads = "\n".join(
        [f"| id | workload | {cores} threads | 1 thread | speed-up | goal ≥ {1 / parallel['P1']['goal']:.2g}× met |", "|---|---|---|---|---|---|"]
        + [
            f"| {k} | {what} | {fmt_time(parallel[k]['ours_ns'])} | {fmt_time(parallel[k]['reference_ns'])} | "
            f"{1 / parallel[k]['ratio']:.2f}× | {'yes' if parallel[k]['ratio'] <= parallel[k]['goal'] else 'no'} |"
            for k, what in (
                ("P1", "784-128-10, `forward_batch` of 8192 rows through `parallel::rows`"),
                ("P2", "784-128-10, `parallel::predict_mc`, T = 1000"),
                ("P3", "B1: 784-128-10, `forward_batch` of 1024 rows through `parallel::rows`"),
                ("P4", "TR: 64-256-256-10, a training step on a batch of 64, masks by `parallel::sample_masks`, `Workspace::gradients_batch_parallel` and `step_parallel`"),
                ("P5", "QB: the int8 twin of 784-128-10, 1024 rows through `parallel::slices`"),
            )
        ]
    )

    def default_row(id_, workload, key, side, name):
        """B1 or TR against a peer on every core: medians over the alternating rounds, and the
        median of the rounds' ratios."""
        pairs = [(ours[key], peers[side].get("median_ns", {}).get(key))
                 for ours, *peers in default_rounds]
        pairs = [(a, b) for a, b in pairs if a and b]
        if not pairs:
            return f"| {id_} | {workload} | — | {name}: — | — | ≥ 1.0× | no |"
        ours_ns = statistics.median(a for a, _ in pairs)
        theirs = statistics.median(b for _, b in pairs)
        ratio = statistics.median(b / a for a, b in pairs)
        count = default_rounds[0][1 + side].get("threads", "?")
        return (f"| {id_} | {workload} | {fmt_time(ours_ns)} ({cores} threads) | {name}, {count} threads: "
                f"{fmt_time(theirs)} | {ratio:.2f}× | ≥ 1.0× | {'yes' if ratio >= 1 else 'no'} |")

    qb_ort = ort_default("int8 batch 1024, default")
    default_threads = "\n".join([
        "| id | workload | ours on every core | peer at its default threads | speed-up | goal | goal met |",
        "|---|---|---|---|---|---|---|",
        default_row("B1", "784-128-10, batch of 1024", "B1", 0, "numpy"),
        default_row("B1", "784-128-10, batch of 1024", "B1", 1, "PyTorch"),
        default_row("TR", "training step 64-256-256-10, batch 64", "TR", 1, "PyTorch"),
        f"| QB | 784-128-10 int8, batch of 1024 | {fmt_time(parallel['P5']['ours_ns'])} ({cores} threads) | "
        f"onnxruntime int8, {cores} threads: {fmt_time(qb_ort)} | {speedup(parallel['P5']['ours_ns'], qb_ort)} | "
        f"≥ 1.0× | {met(parallel['P5']['ours_ns'], qb_ort)} |",
    ])

    def cells(key, peer_key=None):
        peer_key = peer_key or key
        return (f"| {fmt_time(ours[key])} | {fmt_time(ours.get(key + '/ndarray'))} | {fmt_time(t.get(peer_key))} "
                f"| {fmt_time(n.get(peer_key))} | {speedup(ours[key], t.get(peer_key))} "
                f"| {speedup(ours[key], n.get(peer_key))} |")

    times = "\n".join([
        "| id | workload | dropout | plain ndarray | PyTorch | numpy | speed-up vs PyTorch | speed-up vs numpy |",
        "|---|---|---|---|---|---|---|---|",
        f"| T1 | toy, one evaluation {cells('T1')}",
        f"| T1/by_hand | the toy written by hand | {fmt_time(ours['T1/by_hand'])} | — | — | — | — | — |",
        f"| T2 | toy, 4096 samples batched {cells('T2')}",
        f"| M2 | 784-128-10, one evaluation {cells('M2')}",
        f"| L2/M2 | streaming M2's parameters | {fmt_time(ours['L2/M2'])} | — | — | — | — | — |",
        f"| M3 | 64-256-256-10, one evaluation {cells('M3')}",
        f"| L2/M3 | streaming M3's parameters | {fmt_time(ours['L2/M3'])} | — | — | — | — | — |",
        f"| B1 | 784-128-10, batch of 1024 ({gflops(ours['B1']):.0f} GFLOP/s) {cells('B1')}",
        f"| D1/p0.5 | masked pass, p = 0.5 {cells('D1/p0.5')}",
        f"| D1/p0 | masked pass, p = 0 {cells('D1/p0')}",
        f"| D1/block | masked pass, the same number of units dropped in one block | {fmt_time(ours['D1/block'])} "
        "| — | — | — | — | — |",
        f"| TR | training step, batch 64 {cells('TR')}",
    ])
    peers = ", ".join(p["peer"] for p in (torch, numpy) if p) or "none could run"
    blas = (numpy or {}).get("blas", "not run")
    torch_isa = (torch or {}).get("cpu_capability", "not run")
    text = f"""# Benchmarks

Measured {datetime.date.today().isoformat()} on {cpu}; {system}; one thread, pinned to one
CPU, except in the section "Threads" (every core), in one run of

```sh
.venv/bin/python benches/run.py
```

- Vector extensions of this CPU: {vector}. Our kernels ran on **{isa}**
  (`dropout::InstructionSet::detected()`; single-sample passes give the same bits on every set).
- Peers: {peers}. numpy's BLAS: {blas} (its own choice: `OPENBLAS_CORETYPE` unset);
  PyTorch's CPU capability: {torch_isa}.

{OTHER_MACHINES}
## Goals

Every goal is a ratio measured within this run. M2, M3, D1 and T1 come from
`cargo bench --bench ratios`, which times both sides alternately in one process and reports
the median of 15 rounds' ratios; B1 and TR alternate criterion's measurement of ours with the
peers', {ROUNDS} times. For the peers, the number is how many times faster ours is.

{goals}

## Times

Medians: criterion's for this crate (`cargo bench --bench workloads`), the median over 25 timed
blocks for the peers. The "plain ndarray" column is the same network evaluated with dynamically
shaped `Array2` products (`benches/workloads.rs`), the baseline that fixed shapes improve on.
Times on this shared machine drift by 10–30 % between minutes; compare within a column, and
take the goals above for ratios.

{times}

Build: a crate with 101,632 literal weights takes {compile_time['big_build_s']:.2f} s to build in release
mode against {compile_time['small_build_s']:.2f} s for the same crate with the toy network
(`benches/compile_time.py`: {compile_time['command']}; peak memory {compile_time['big_max_rss_mb']} MB).
A crate whose 1024-1024-10 network ({compile_time['file_weights']:,} weights) is read from a safetensors file
takes {compile_time['file_build_s']:.2f} s (peak memory {compile_time['file_max_rss_mb']} MB): the macro embeds the file's bytes in storage
order, so the constant holding them costs one copy to evaluate.

## Batches of small networks

`cargo bench --bench ratios` (S1–S6): `forward_batch` (S6: `forward_batch_masked`) of 100,000 rows
against a loop of `forward` (`forward_masked`) over the same rows into a preallocated matrix, one
thread, median of alternating rounds. Goal: batches at least 1.5× faster than the loop.

{small}

## Threads

`cargo bench --bench ratios -- --threads` (P1–P5), not pinned: the `parallel` passes on a pool of
every core ({cores}) against the same passes on a pool of one thread, alternating, median of the
rounds. Both sides give the same bits (`tests/parallel.rs`). Goal: ≥ 1.8× the speed of one
thread on two cores, ≥ 0.85 × cores on more.

{threads}

Then B1 and TR on every core (`cargo bench --bench workloads -- '^(B1|TR)/threads$'`: the
batch through `parallel::rows`, the training step as in P4, on rayon's global pool) against the
peers at their default thread counts (OpenBLAS's threads, PyTorch's intra-op pool), in {ROUNDS}
alternating rounds as for one thread: the medians of the rounds, and the median of the rounds'
ratios. Last, onnxruntime's int8 model at its default thread count (the median of its 25 timed
blocks) against P5 above:

{default_threads}

P2: each pass draws its masks on its thread from a generator seeded by one draw of the
caller's (`stats::pass_rng`), so the moments are exactly those of `stats::predict_mc`.

## Int8 on the host

`cargo bench --bench ratios` (Q2, QB: the int8 twin of 784-128-10, quantized from the f32
network with 1024 random rows, against that f32 network in the same run) and
`benches/peers/onnxruntime_peer.py` (onnxruntime {onnx_version}: the same shape in f32 and as a QDQ
int8 model from `quantize_static`, per-channel weights, MLAS kernels; run right after).
Kernels: {isa}; the int8 dot products use AVX-512 VNNI (`vpdpbusd`) where the CPU has it, and
otherwise `vpmaddwd` on operands widened to 16 bits (a batch widens each layer's weights once,
`kernel/int8/packed.rs`). The int8 batch on every core (`parallel::slices`) is P5 of "Threads".

{int8}
{int8_note}
## Microcontrollers

Measured by `cargo test --test firmware` (the firmware in `embedded/`, built for each target and
run in QEMU; the numbers do not depend on this machine). Flash and RAM are what a network's
`forward` and `forward_masked` add to a program with none (code, weights, `libm` and float
routines); the stack is the deepest a pass reaches below its caller, found by painting the stack.
A network with declared weights keeps them in flash: no RAM. `sine-f32` and `sine-i8` are one
model before and after TensorFlow's int8 quantization (`tools/tflite_int8.py`): the int8 one
computes bit for bit what the host computes, and what TFLite Micro computes for the file.
`per-tensor` and `microflow` are one file, `models/per_tensor.tflite`, through this crate and
through `microflow` 0.1.3, the other Rust crate that turns a `.tflite` file into code: it is the
one fixture whose per-tensor scales microflow's macro reads (`models/sine.tflite`, per channel,
fails to compile under it with "mismatched types: expected `1`, found `16`"). Its flash is
its `predict_quantized` alone, ours `forward_quantized` and `forward_quantized_masked`;
microflow requantizes in `f32`, hence its instructions on the soft-float Cortex-M3, and on that
fixture its outputs differ from TFLite Micro's on 2 of 70 inputs (by one unit;
`tools/microflow_compare`, `cargo run --release` there), ours on none.
{footprint}

How the kernels reach these numbers, and what was measured on the way, is in docs/DESIGN.md
("Performance work").
"""
    (ROOT / "BENCHMARKS.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
