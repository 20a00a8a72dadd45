# Baselines for `bun run bench executor`, run with Debian's python3 (it has pebble). stdin: JSON
# {"mode", "passes", "jobs": [[call, ...], ...]}: a call is {"exec": text}, a program text whose last line is an
# expression (the reference executor's templates, docs/reference.md §3), or {"deduction": {code, gold, answer}}.
# stdout: JSON {"seconds": [per pass], "latency_ms": [per job, last pass], "executor_calls": calls sent to the
# executor in the last pass}.
#   warm        exec/eval in fresh dicts in this process (no isolation at all: the unsafe upper bound); a deduction
#               is eval(gold) == eval(answer) here, for every answer
#   subprocess  one `python3 -I -S -c` per call
#   pebble      the reference design: one forked pebble ProcessPool worker, one call at a time, timeout 10 s; a
#               deduction is judged once per distinct answer of a job, by the in-process fast path
#               eval(gold) == eval(answer), and only a miss goes to the worker as EVAL_OUTPUT_PREDICTION
#               (`{code}` + `eval({gold}) == eval({answer})`, both inserted raw as the reference does, §2.3)
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


def fast_path(d):
    try:
        return eval(d["gold"]) == eval(d["answer"])
    except BaseException:
        return False


def main():
    req = json.load(sys.stdin)
    mode, jobs = req["mode"], req["jobs"]
    sent = 0

    if mode == "pebble":
        from pebble import ProcessPool
        pool = ProcessPool(max_workers=1)

        def call(t):
            nonlocal sent
            sent += 1
            return pool.schedule(run_text, args=(t,), timeout=10).result()
    else:
        def call(t):
            nonlocal sent
            sent += 1
            return via_subprocess(t) if mode == "subprocess" else run_text(t)

    def run_job(job):
        judged = set()
        for c in job:
            if "exec" in c:
                call(c["exec"])
                continue
            d = c["deduction"]
            if mode != "pebble":
                fast_path(d)
            elif d["answer"] not in judged:
                judged.add(d["answer"])
                if not fast_path(d):
                    call(f"{d['code']}\neval({d['gold']}) == eval({d['answer']})")

    seconds, latency = [], []
    for _ in range(req["passes"]):
        latency, sent = [], 0
        t0 = time.perf_counter()
        for job in jobs:
            j0 = time.perf_counter()
            run_job(job)
            latency.append((time.perf_counter() - j0) * 1000)
        seconds.append(time.perf_counter() - t0)
    if mode == "pebble":
        pool.close()
        pool.join()
    json.dump({"seconds": seconds, "latency_ms": latency, "executor_calls": sent}, sys.stdout)


main()
