"""TAP output for the integration suites: check() prints one test line,
with the detail of a failure as comment lines; done() prints the plan.
free_port() finds a TCP port on loopback nobody listens on."""
import socket
import sys

results = []


def check(cond, name, detail=""):
    results.append(bool(cond))
    print(("ok" if cond else "not ok") + f" {len(results)} - {name}")
    if not cond and detail:
        for line in str(detail).splitlines()[:40]:
            print(f"#   {line}")
    sys.stdout.flush()
    return cond


def done():
    print(f"1..{len(results)}")
    return 0 if all(results) else 1


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
