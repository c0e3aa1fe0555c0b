#!/usr/bin/env python3
"""Write a first corpus/expect/NAME.toml from what `nmap -sV` said.

usage: expect.py NAME NMAP_XML [ADDR]

For each endpoint of servers/NAME.sh, the service, product and version nmap named
(`ssl/http` written as portolan's `https`, `ssl/imap` as `imaps` ...) are the first
draft of what portolan must say, and `nmap` records nmap's words. Edit the draft where
the bytes carry more (or nmap named something the bytes do not support), then run
`cargo test -p portolan-probe --test corpus`. An existing file is not overwritten.
"""
import json, pathlib, subprocess, sys
import xml.etree.ElementTree as ET

here = pathlib.Path(__file__).resolve().parent
name, xml = sys.argv[1], sys.argv[2]
out = here / "expect" / f"{name}.toml"
if out.exists():
    sys.exit(f"{out} exists")
sh = here / "servers" / f"{name}.sh"
f = lambda v: subprocess.run(["bash", "-c", f'set +u; source "{sh}"; printf "%s" "${v}"'],
                             capture_output=True, text=True).stdout
addr, packages, extract = f("ADDR"), f("PACKAGES").split(), f("EXTRACT").split()
pkg = (extract or packages)[0]
version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True).stdout
if not version:
    version = subprocess.run(["apt-cache", "policy", pkg], capture_output=True, text=True).stdout
    version = next((l.split()[1] for l in version.splitlines() if "Candidate:" in l), "")
tunnel = {"http": "https", "imap": "imaps", "pop3": "pop3s", "smtp": "smtps", "ftp": "ftps"}
seen = {}
for host in ET.parse(xml).getroot().iter("host"):
    if host.find("address").get("addr") != addr:
        continue
    for p in host.iter("port"):
        s = p.find("service")
        seen[int(p.get("portid"))] = (p.find("state").get("state"), s)
lines = [f'package = "{pkg}"', f'version = "{version}"']
for line in f("ENDPOINTS").splitlines():
    state, port = line.split()[:2]
    st, s = seen.get(int(port), ("", None))
    lines += ["", "[[endpoint]]", f'state = "{state}"', f"port = {port}"]
    words = []
    if s is not None and st == "open":
        svc = s.get("name", "")
        if s.get("tunnel") == "ssl":
            words.append("ssl/" + svc)
            svc = tunnel.get(svc, "ssl/" + svc)
        else:
            words.append(svc)
        lines.append(f"service = {json.dumps(svc)}")
        for k in ("product", "version"):
            if s.get(k):
                v = s.get(k) if k == "product" else s.get(k).split()[0]
                lines.append(f"{k} = {json.dumps(v)}")
                words.append(s.get(k))
    else:
        lines.append('service = "unknown"')
    lines.append(f"nmap = {json.dumps(' '.join(words) if st == 'open' else '')}")
out.write_text("\n".join(lines) + "\n")
print(out.read_text())
