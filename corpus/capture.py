#!/usr/bin/env python3
"""Capture what a server answers to each of portolan's probes.

usage: capture.py ADDR PORT PREFIX [--only PROBE]

For `banner` (connect, say nothing) and every probe of
crates/portolan-probe/fingerprints/probes.toml, writes the answer to PREFIX-PROBE.bin
(empty answers are not written) and one line `PROBE END BYTES` per exchange to
PREFIX.ends, END being how the exchange ended as portolan's runner names it:
closed, quiet, reset, full (4096 bytes), noconn (no connection or, for the `tls`
probe, no handshake). The `tls` probe runs a handshake (TLS 1.2 or later, ALPN
http/1.1, no SNI for an address, as portolan does) and sends `http-get` inside.
Reads until the server is quiet for 0.5 s (1 s for the first byte), closes, or
4096 bytes have arrived.
"""
import pathlib, socket, ssl, sys, tomllib
from concurrent.futures import ThreadPoolExecutor

LIMIT = 4096
PROBES = pathlib.Path(__file__).resolve().parents[1] / "crates/portolan-probe/fingerprints/probes.toml"


def unescape(text, host):
    text = text.replace("{host}", host)
    out = bytearray(); i = 0
    esc = {"r": 13, "n": 10, "t": 9, "0": 0, "e": 27, "\\": 92}
    while i < len(text):
        c = text[i]
        if c != "\\":
            out += c.encode(); i += 1; continue
        n = text[i + 1]
        if n == "x":
            out.append(int(text[i + 2:i + 4], 16)); i += 4
        else:
            out.append(esc[n]); i += 2
    return bytes(out)


def probes(host):
    table = tomllib.loads(PROBES.read_text())["probe"]
    get = next(p for p in table if p["name"] == "http-get")["payload"]
    out = [("banner", "tcp", b"")]
    for p in table:
        kind = p.get("kind", "tcp")
        payload = p.get("payload", "") if kind == "tcp" else get
        out.append((p["name"], kind, unescape(payload, host)))
    return out


def read(s):
    data = b""; end = "quiet"
    s.settimeout(1.0)
    try:
        while len(data) < LIMIT:
            chunk = s.recv(LIMIT - len(data))
            if not chunk:
                end = "closed"; break
            data += chunk
            s.settimeout(0.5)
        else:
            end = "full"
    except socket.timeout:
        end = "quiet"
    except (ConnectionError, ssl.SSLError, OSError):
        end = "reset"
    return data, end


def exchange(addr, port, name, kind, payload):
    try:
        s = socket.create_connection((addr, port), timeout=2)
    except OSError:
        return name, b"", "noconn"
    try:
        if kind == "tls":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_alpn_protocols(["http/1.1"])
            try:
                s.settimeout(2)
                s = ctx.wrap_socket(s, server_hostname=None)
            except (OSError, ssl.SSLError):
                return name, b"", "noconn"
        if payload:
            try:
                s.sendall(payload)
            except OSError:
                return name, b"", "reset"
        data, end = read(s)
        return name, data, end
    finally:
        s.close()


def main():
    args = sys.argv[1:]
    only = None
    if "--only" in args:
        i = args.index("--only"); only = args[i + 1]; del args[i:i + 2]
    if len(args) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr); sys.exit(2)
    addr, port, prefix = args[0], int(args[1]), args[2]
    todo = [p for p in probes(addr) if only in (None, p[0])]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda p: exchange(addr, port, *p), todo))
    ends = []
    for name, data, end in results:
        if data:
            pathlib.Path(f"{prefix}-{name}.bin").write_bytes(data)
        ends.append(f"{name} {end} {len(data)}\n")
    if only is None:
        pathlib.Path(f"{prefix}.ends").write_text("".join(ends))
    said = [f"{n}:{len(d)}" for n, d, _ in results if d]
    print(f"{addr}:{port} {' '.join(said) or 'silent'}")


main()
