# Baselines for `bun run bench executor`, run with Debian's python3 (it has pebble). stdin: JSON
# {"mode", "passes", "jobs": [[text, ...], ...]}: each job is a list of calls, each call a program text whose last
# line is an expression (the reference executor's templates, docs/reference.md §3). stdout: JSON {"seconds": [per pass],
# "latency_ms": [per job, last pass]}.
#   warm        exec/eval in fresh dicts in this process (no isolation at all: the unsafe upper bound)
#   subprocess  one `python3 -I -S -c` per call
#   pebble      the reference design: one forked pebble ProcessPool worker, one call at a time, timeout 10 s
import io, json, subprocess, sys, time, contextlib


def run_text(text):
    lines = text.split("\n")
    g = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            exec("\n".join(lines[:-1]), g)
            return repr(eval(lines[-1], g))
        except BaseException as e:  # the reference catches everything, SystemExit included
            return type(e).__name__


def via_subprocess(text):
    lines = text.split("\n")
    src = "\n".join(lines[:-1]) + "\nprint(" + lines[-1] + ")"
    return subprocess.run([sys.executable, "-I", "-S", "-c", src], capture_output=True, timeout=10).stdout


def main():
    req = json.load(sys.stdin)
    mode, jobs = req["mode"], req["jobs"]
    if mode == "pebble":
        from pebble import ProcessPool
        pool = ProcessPool(max_workers=1)
        call = lambda t: pool.schedule(run_text, args=(t,), timeout=10).result()
    elif mode == "subprocess":
        call = via_subprocess
    else:
        call = run_text
    seconds, latency = [], []
    for _ in range(req["passes"]):
        latency = []
        t0 = time.perf_counter()
        for job in jobs:
            j0 = time.perf_counter()
            for text in job:
                call(text)
            latency.append((time.perf_counter() - j0) * 1000)
        seconds.append(time.perf_counter() - t0)
    if mode == "pebble":
        pool.close()
        pool.join()
    json.dump({"seconds": seconds, "latency_ms": latency}, sys.stdout)


main()
