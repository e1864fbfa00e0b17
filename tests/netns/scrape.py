"""The Prometheus scrape of a running node against lbd's stats table.

`lbd --stats-table` lists every value lbd shows (JSON name, Prometheus
family, type). check_scrape() asserts three things on one node:
  - promtool accepts the scrape;
  - every family of the table is in it (the node runs VRRP, sync and a data
    plane, so every scope has rows);
  - every number `lbctl show ... --json` prints is a value of the table,
    so nothing lbctl shows is missing from the scrape."""
import json
import subprocess

from tap import check

# Numbers in the JSON that are not counters or gauges: identifiers and
# settings, shown to say which object a row is.
NOT_VALUES = {"pid", "ifindex", "vrid", "family", "version", "port",
              "workers", "unicast_peers", "shown", "total", "external"}
# Objects whose numbers are settings (a track's weight), not values.
SETTINGS = {"tracks", "addresses", "messages"}


def table(lbd_bin):
    out = subprocess.run([lbd_bin, "--stats-table"], capture_output=True,
                         text=True, timeout=10).stdout
    rows = [ln.split("\t") for ln in out.splitlines() if ln.strip()]
    return {r[0] for r in rows}, {r[1] for r in rows}


def numbers(obj, names, path=""):
    """(key, path) of every number in a JSON document. An object of numbers
    only is a family of counts by reason or state (the family is its key),
    unless each of its keys is a value of the table (show info's fastpath)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in SETTINGS:
                continue
            if isinstance(v, bool):
                yield k, path + "." + k
            elif isinstance(v, (int, float)):
                yield k, path + "." + k
            elif isinstance(v, dict) and v and all(
                    isinstance(x, int) and not isinstance(x, bool)
                    for x in v.values()) and not set(v) <= names:
                # Counts by reason or state: the family is the key.
                yield k, path + "." + k + "{}"
            else:
                yield from numbers(v, names, path + "." + k)
    elif isinstance(obj, list):
        for x in obj:
            yield from numbers(x, names, path + "[]")


def check_scrape(net, node, port, shows):
    """`shows`: the show commands whose JSON must be in the table."""
    r = net.t.nsx(node, f"curl -s --max-time 10 http://127.0.0.1:{port}/metrics",
                  check=False)
    body = r.stdout
    p = subprocess.run(["promtool", "check", "metrics"], input=body,
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 0 and body,
          f"{node}: promtool accepts the scrape ({len(body.splitlines())} lines)",
          p.stdout + p.stderr)
    names, families = table(net.lbd_bin)
    present = {ln.split()[2] for ln in body.splitlines()
               if ln.startswith("# TYPE ")}
    missing = sorted(families - present)
    check(not missing, f"{node}: the scrape has every family of the stats table "
          f"({len(families)}: VRRP, sync, data plane, services, backends)",
          missing)
    strays = []
    for cmd in shows:
        try:
            doc = json.loads(net.ctl(node, *cmd.split(), "--json"))
        except ValueError:
            strays.append(f"{cmd}: not JSON")
            continue
        for key, where in numbers(doc, names, cmd):
            # show errors has the data plane's drops by reason at its top.
            flat = cmd == "show errors" or where.startswith("show stat.errors")
            if key in NOT_VALUES or key in names or (
                    flat and f"drops.{key}" in names):
                continue
            strays.append(where)
    check(not strays, f"{node}: every number lbctl shows ({', '.join(shows)}) "
          f"is a value of the stats table, so in the scrape", strays[:20])
