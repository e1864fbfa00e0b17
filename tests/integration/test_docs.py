#!/usr/bin/env python3
"""The documentation is complete, by construction from the code: every
keyword of the configuration grammar (conf/lexer.l) is in lbd.conf(5),
every control command lbctl knows is in lbctl(8), every Prometheus family
lbd exports (`lbd --stats-table`) is in the operator guide's reference,
with its type, help and label values, exactly as the stats table has it,
and the packages no longer call sync unfinished.

usage: test_docs.py BUILD_DIR [--write]   (--write: rewrite the operator
guide's metrics reference from the stats table first)"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from tap import check, done  # noqa: E402

SRC = os.path.normpath(os.path.join(HERE, "..", ".."))


def read(*path):
    with open(os.path.join(SRC, *path)) as f:
        return f.read()


def man_text(name):
    """A man page's words: roff escapes for '-' undone."""
    return read("packaging", "man", name).replace("\\-", "-").replace("\\(em", " ")


BEGIN, END = "<!-- metrics-reference: begin -->", "<!-- metrics-reference: end -->"
WRITE = "--write" in sys.argv


def metrics_reference(table):
    """The operator guide's table of every family, from the stats table:
    its type, help and, for labelled families, the label's values."""
    fams, order = {}, []
    for ln in table.splitlines():
        f = ln.split("\t")
        if len(f) < 4:
            continue
        name, fam, typ, text = f[0], f[1], f[2], f[3]
        if fam not in fams:
            fams[fam] = {"type": typ, "help": "", "labels": {}}
            order.append(fam)
        m = re.fullmatch(r"(\w+)=(\S+)", text)
        if m and "." in name:
            fams[fam]["labels"].setdefault(m.group(1), []).append(m.group(2))
        elif not fams[fam]["help"]:
            fams[fam]["help"] = text
    rows = [BEGIN, "", "| family | type | what it counts |", "|---|---|---|"]
    for fam in sorted(order):
        d = fams[fam]
        text = d["help"].replace("|", "\\|")
        for label, values in d["labels"].items():
            text += f" `{label}`: " + ", ".join(f"`{v}`" for v in values) + "."
        rows.append(f"| `{fam}` | {d['type']} | {text} |")
    return "\n".join(rows + ["", END])


def main():
    args = [a for a in sys.argv[1:] if a != "--write"]
    build = args[0] if args else "build"
    lbd = os.path.join(build, "lbd", "lbd")
    lbctl = os.path.join(build, "lbd", "lbctl")

    # ---- lbd.conf(5): every keyword the lexer knows ---------------------
    words = sorted(set(re.findall(r'^"([a-z][a-z0-9-]*)"\s+return\s+T_',
                                  read("conf", "lexer.l"), re.M)))
    man5 = man_text("lbd.conf.5")
    missing = [w for w in words
               if not re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", man5)]
    check(len(words) > 50 and not missing,
          f"lbd.conf(5) names every one of the grammar's {len(words)} "
          "keywords", missing)

    # ---- lbctl(8): every command ----------------------------------------
    p = subprocess.run([lbctl, "--help"], capture_output=True, text=True,
                       timeout=30)
    cmds = []
    for line in p.stdout.split("commands:", 1)[-1].splitlines():
        if line and not line.startswith(" ") and not line.startswith("..."):
            # The command's own words: up to the first argument.
            own = []
            for w in line.split("  ")[0].split():
                if w[0] in "[<" or w.isupper() or "|" in w or "/" in w:
                    break
                own.append(w)
            cmds.append(" ".join(own))
    man8 = man_text("lbctl.8")
    # A command is documented when a .B/.BI line starts with its words.
    heads = [re.sub(r'["\\]|fB|fR|fI', "", ln.split(None, 1)[1]).strip()
             for ln in man8.splitlines()
             if ln.startswith((".B ", ".BI ", ".BR ")) and " " in ln]
    missing = [c for c in cmds if not any(h.startswith(c) for h in heads)]
    check(p.returncode == 0 and len(cmds) >= 15 and not missing,
          f"lbctl(8) documents every one of lbctl's {len(cmds)} commands",
          missing)

    # ---- metrics: the operator guide's reference is the stats table -----
    p = subprocess.run([lbd, "--stats-table"], capture_output=True, text=True,
                       timeout=30)
    want = metrics_reference(p.stdout)
    guide = read("docs", "operator-guide.md")
    if WRITE:
        guide = re.sub(rf"{BEGIN}.*?{END}", lambda m: want, guide, flags=re.S)
        with open(os.path.join(SRC, "docs", "operator-guide.md"), "w") as f:
            f.write(guide)
    fams = {ln.split("\t")[1] for ln in p.stdout.splitlines()
            if ln.count("\t") >= 3}
    check(p.returncode == 0 and len(fams) > 50 and want in guide,
          f"the operator guide's metrics reference lists the {len(fams)} "
          "Prometheus families as lbd --stats-table has them "
          "(make docs-metrics rewrites it)",
          sorted(f for f in fams if f not in guide))

    # ---- the packages' descriptions ------------------------------------
    ctl = read("packaging", "debian", "control") + read("packaging", "rpm",
                                                         "lbd.spec")
    check("in development" not in ctl,
          "debian/control and the rpm spec describe what ships",
          [ln for ln in ctl.splitlines() if "in development" in ln])
    return done()


if __name__ == "__main__":
    sys.exit(main())
