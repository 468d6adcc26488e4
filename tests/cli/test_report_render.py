#!/usr/bin/env python3
"""Renders an `mlops report` in headless Chromium and checks what a person would see: the page
loads without console errors, its charts are drawn (non-empty SVG paths in the rendered DOM),
and the screenshot shows them (chart-blue lines and red threshold lines among many colours).

Usage: test_report_render.py PATH_TO_MLOPS PATH_TO_MAKE_FIXTURE
Exits 77 (skipped) without Chromium unless MLOPS_REQUIRE_CHROMIUM is set (make test sets it).
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib


def png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit RGB/RGBA PNG, decoded with zlib only."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), f"unexpected PNG format {depth}/{ctype}"
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def main():
    mlops, fixture = sys.argv[1:3]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("chromium is not installed")
        return 1 if os.environ.get("MLOPS_REQUIRE_CHROMIUM") else 77
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "f.db")
        run_id = subprocess.run([fixture, db, tmp], check=True, capture_output=True, text=True).stdout.strip()
        html = os.path.join(tmp, "report.html")
        subprocess.run([mlops, "--store", db, "report", run_id, "fraud", "-o", html], check=True,
                       capture_output=True)
        flags = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                 f"--user-data-dir={tmp}/profile", "--enable-logging=stderr", "--v=0",
                 "--window-size=1400,1800"]
        dom = subprocess.run(flags + ["--dump-dom", "file://" + html], capture_output=True, text=True,
                             timeout=120)
        assert dom.returncode == 0, dom.stderr[-2000:]
        console = [l for l in dom.stderr.splitlines() if "CONSOLE" in l]
        assert not console, "console messages: " + "\n".join(console)
        paths = re.findall(r'<path [^>]*\bd="M([^"]+)"', dom.stdout)
        assert len(paths) >= 3 and all(len(p.split()) > 4 for p in paths), f"{len(paths)} chart paths"
        assert dom.stdout.count("<svg") >= 4, "expected 4 charts (loss, PSI, KS p, histogram)"
        png = os.path.join(tmp, "report.png")
        shot = subprocess.run(flags + [f"--screenshot={png}", "file://" + html], capture_output=True,
                              text=True, timeout=120)
        assert shot.returncode == 0 and os.path.exists(png), shot.stderr[-2000:]
        width, height, bpp, rows = png_pixels(png)
        assert (width, height) == (1400, 1800), (width, height)
        colours, blue, red = set(), 0, 0
        for row in rows[::2]:
            for x in range(0, width * bpp, bpp):
                r, g, b = row[x:x + 3]
                colours.add((r, g, b))
                blue += b > 180 and r < 120 and g < 150      # the series lines and bars (#2563eb)
                red += r > 180 and g < 110 and b < 110       # the threshold lines (#dc2626)
        assert len(colours) > 50, f"only {len(colours)} colours: a blank page?"
        assert blue > 500, f"{blue} blue pixels: the charts' lines are not drawn"
        assert red > 100, f"{red} red pixels: the threshold lines are not drawn"
        print(f"rendered {width}x{height}: {len(paths)} chart paths, {len(colours)} colours, "
              f"{blue} blue and {red} red pixels, no console errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
