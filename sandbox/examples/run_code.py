#!/usr/bin/env python3
"""Calls the executor's SandboxFusion-compatible endpoint with the standard library only (urllib).

    bun run executor serve --http 127.0.0.1:8080 &
    python3 sandbox/examples/run_code.py http://127.0.0.1:8080

A client built for SandboxFusion (verl's sandbox_fusion reward: sandbox_fusion_url = "http://HOST:PORT/run_code")
needs no change. With `requests` the call is requests.post(url + "/run_code", json=payload).json().
"""
import json
import sys
import urllib.error
import urllib.request


def post(base, path, payload):
    """POST JSON, return (HTTP status, decoded JSON body); 4xx/5xx bodies are JSON too."""
    req = urllib.request.Request(base + path, data=json.dumps(payload).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def run_code(base, code, stdin="", run_timeout=10):
    """SandboxFusion's request, as verl sends it."""
    return post(base, "/run_code", {"code": code, "stdin": stdin, "language": "python", "run_timeout": run_timeout,
                                    "compile_timeout": run_timeout, "memory_limit_MB": -1, "files": {},
                                    "fetch_files": []})


def main(base):
    _, ok = run_code(base, "a, b = map(int, input().split())\nprint(a + b)", stdin="20 22\n")
    print("sum:", ok["status"], ok["run_result"]["status"], ok["run_result"]["return_code"],
          repr(ok["run_result"]["stdout"]))

    _, failed = run_code(base, "import sys\nprint('oops', file=sys.stderr)\nsys.exit(3)")
    print("exit:", failed["status"], failed["run_result"]["return_code"], repr(failed["run_result"]["stderr"]))

    _, slow = run_code(base, "while True:\n    pass", run_timeout=0.5)
    print("loop:", slow["status"], slow["run_result"]["status"])

    code, refused = post(base, "/run_code", {"code": "int main() {}", "language": "cpp"})
    print("cpp:", code, refused["status"], refused["message"])

    _, azr = post(base, "/v1/submit", {"id": 1, "op": "run", "code": "def f(x):\n    return x * 2", "input": "21"})
    print("azr run:", azr["id"], azr["status"], azr["output"])


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8080")
