"""The peer of `codealign serve` in bench/serve_throughput.sh: a SandboxFusion-style /run_code
server, written here to SandboxFusion's design for python (isolation none): per request a
temporary directory, the files restored into it, the code written to a .py file there and run
as a fresh `python3` subprocess with the stdin, the timeout and RLIMIT_AS; a thread per request.

    python3 bench/serve_peer.py PORT
"""
import base64
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PYTHON = "/usr/bin/python3"
OUTPUT_CAP = 1 << 20


def command_result(status, elapsed, return_code=None, stdout=b"", stderr=b""):
    return {"status": status, "execution_time": elapsed, "return_code": return_code,
            "stdout": stdout[:OUTPUT_CAP].decode(errors="replace"), "stderr": stderr[:OUTPUT_CAP].decode(errors="replace")}


def run_code(request):
    memory_mb = request.get("memory_limit_MB", -1)

    def limit_memory():
        if memory_mb > 0:
            resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))

    with tempfile.TemporaryDirectory() as directory:
        for name, content in (request.get("files") or {}).items():
            if isinstance(content, str):
                path = os.path.join(directory, name)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as f:
                    f.write(base64.b64decode(content))
        with tempfile.NamedTemporaryFile("w", suffix=".py", dir=directory, delete=False) as f:
            f.write(request["code"])
        start = time.monotonic()
        try:
            done = subprocess.run([PYTHON, f.name], input=(request.get("stdin") or "").encode(), capture_output=True,
                                  timeout=request.get("run_timeout", 10), cwd=directory, preexec_fn=limit_memory)
            result = command_result("Finished", time.monotonic() - start, done.returncode, done.stdout, done.stderr)
        except subprocess.TimeoutExpired as expired:
            result = command_result("TimeLimitExceeded", time.monotonic() - start, None, expired.stdout or b"",
                                    expired.stderr or b"")
        files = {}
        for name in request.get("fetch_files") or []:
            path = os.path.abspath(os.path.join(directory, name))
            if os.path.isfile(path):
                with open(path, "rb") as fetched:
                    files[name] = base64.b64encode(fetched.read()).decode()
    failed = result["status"] == "TimeLimitExceeded" or result["return_code"] != 0
    return {"status": "Failed" if failed else "Success", "message": "", "compile_result": None, "run_result": result,
            "executor_pod_name": None, "files": files}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the clients use it
    disable_nagle_algorithm = True  # as uvicorn, SandboxFusion's server

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        answer = json.dumps(run_code(body)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
