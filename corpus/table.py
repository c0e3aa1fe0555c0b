#!/usr/bin/env python3
"""The side-by-side table of `corpus/run compare`.

usage: table.py OUT EXPECT_DIR [--update-expect]

OUT holds `endpoints` (NAME ADDR STATE PORT per line), `nmap.xml`, `portolan.ndjson`,
`times` and `commands`. Prints a markdown table (program, port, state, what nmap says,
what portolan says, how they compare) and the counts. With --update-expect, writes
what nmap said into the `nmap = "..."` line of each endpoint of EXPECT_DIR/NAME.toml.
"""
import json, pathlib, re, sys, tomllib
import xml.etree.ElementTree as ET

out, expect_dir = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
update = "--update-expect" in sys.argv

nmap = {}
for host in ET.parse(out / "nmap.xml").getroot().iter("host"):
    addr = host.find("address").get("addr")
    for p in host.iter("port"):
        st = p.find("state").get("state")
        s = p.find("service")
        f = {"state": st, "name": "", "product": "", "version": "", "extrainfo": ""}
        if s is not None:
            f.update({k: s.get(k, "") for k in ("name", "product", "version", "extrainfo")})
            if s.get("tunnel") == "ssl":
                f["name"] = "ssl/" + f["name"]
        nmap[(addr, int(p.get("portid")))] = f

ours = {}
for line in (out / "portolan.ndjson").read_text().splitlines():
    r = json.loads(line)
    if "port" not in r:
        continue
    s = r.get("service") or {}
    ours[(r["addr"], r["port"])] = {"state": r["state"], "name": s.get("name", ""),
                                    "product": s.get("product") or "", "version": s.get("version") or "",
                                    "info": s.get("info") or ""}


def says(f, info_key):
    if not f or f["state"] != "open":
        return f["state"] if f else "(no answer)"
    words = [f["name"], f["product"], f["version"]]
    text = " ".join(w for w in words if w)
    if f[info_key]:
        text += f" ({f[info_key]})"
    return text.replace("|", "\\|")


def number(version):
    """The version number: what comes before a Debian revision or a comment
    ("9.18.49-1~deb12u3" and "9.18.49" are both 9.18.49; "9.2p1 Debian ..." is 9.2p1)."""
    m = re.match(r"[0-9][0-9A-Za-z.]*", version.strip())
    return m.group(0) if m else ""


# What each endpoint really is: the product the expect file names (written from the
# package we installed and the bytes), to tell a miss from nmap naming another product.
# A product nmap names that no endpoint of the program is named is another program's.
truth, products, packages = {}, {}, {}
for path in expect_dir.glob("*.toml"):
    doc = tomllib.loads(path.read_text())
    packages[path.stem] = doc["package"]
    for ep in doc.get("endpoint", []):
        truth[(path.stem, ep["state"], ep["port"])] = ep.get("product", "")
        if ep.get("product"):
            products.setdefault(path.stem, set()).add(ep["product"].lower())

rows, counts = [], {"same": 0, "more": 0, "less": 0, "nmap_wrong": 0, "neither": 0}
for line in (out / "endpoints").read_text().splitlines():
    name, addr, state, port = line.split()
    n, o = nmap.get((addr, int(port))), ours.get((addr, int(port)))
    np_, nv = (n or {}).get("product", ""), (n or {}).get("version", "")
    # Where no probe of its own matched, nmap reports a Server field as it came
    # ("h2o/2.2.5") as the product: that is product h2o, version 2.2.5.
    if "/" in np_ and not nv:
        np_, _, nv = np_.partition("/")
    op, ov = (o or {}).get("product", ""), (o or {}).get("version", "")
    # nmap's version field may carry more than the number ("9.2p1 Debian 2+deb12u10"):
    # the number is its first word, and that is what must agree.
    nnum, onum = number(nv), number(ov)
    real, package = truth.get((name, state, int(port)), ""), packages.get(name, name)
    if np_ and products.get(name) and np_.lower() not in products[name] and op == real:
        verdict = f"nmap names another program (this is {package})"
        counts["nmap_wrong"] += 1
    elif np_ and (op.lower() != np_.lower() or (nnum and onum != nnum)):
        verdict = "portolan names less"
        counts["less"] += 1
    elif np_:
        verdict = "portolan names more" if onum and not nnum else "same"
        counts["same" if verdict == "same" else "more"] += 1
    elif op:
        verdict = "portolan names more"
        counts["more"] += 1
    else:
        verdict = "neither names a product"
        counts["neither"] += 1
    rows.append(f"| {name} | {port} | {state} | {says(n, 'extrainfo')} | {says(o, 'info')} | {verdict} |")
    if update and n:
        path = expect_dir / f"{name}.toml"
        if path.exists():
            nm = " ".join(w for w in (n["name"], n["product"], n["version"]) if w) if n["state"] == "open" else ""
            text = path.read_text()
            blocks = text.split("[[endpoint]]")
            for i, b in enumerate(blocks[1:], 1):
                if re.search(rf'^state = "{re.escape(state)}"$', b, re.M) and re.search(rf"^port = {port}$", b, re.M):
                    b = re.sub(r'^nmap = .*\n?', "", b, flags=re.M).rstrip("\n") + "\n"
                    b += f"nmap = {json.dumps(nm)}\n"
                    blocks[i] = b + ("\n" if i < len(blocks) - 1 else "")
            path.write_text("[[endpoint]]".join(blocks))

print("| program | port | state | nmap -sV says | portolan -sV says | |")
print("| --- | --- | --- | --- | --- | --- |")
print("\n".join(rows))
print()
times = (out / "times").read_text().split()
print(f"Endpoints: {len(rows)}; same product and version: {counts['same']}; portolan names more: "
      f"{counts['more']}; portolan names less: {counts['less']}; nmap names a wrong product: "
      f"{counts['nmap_wrong']}; neither names a product: {counts['neither']}.")
nt, pt = float(times[1]), float(times[3])
print(f"Wall time: nmap {nt:.1f} s, portolan {pt:.2f} s ({pt / nt:.3f}x).")
print()
print("```\n" + (out / "commands").read_text().rstrip() + "\n```")
