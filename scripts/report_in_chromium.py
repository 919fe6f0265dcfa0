"""Open the partner report in real headless Chromium (Debian's ``chromium``): check that it
loads without errors with every picture present, and take the README's screenshots.

    .venv/bin/python scripts/report_in_chromium.py REPORT.html --docs docs

writes docs/report_overview.png (the first screen on a laptop), docs/report_segment.png
(one segment's section) and docs/report_phone.png (the first screen on a phone), and prints
what the page reported. ``probe`` is what the tests use.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# listens for errors before anything else on the page runs
LISTENER = """<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(String(e.message || e.type)), true);
</script>"""
# once the page and its pictures have loaded: what a reader would see, as JSON in the DOM
PROBE = """<script>
window.addEventListener('load', () => {
  const images = Array.from(document.images);
  const sections = {};
  document.querySelectorAll('section[id]').forEach(s => {
    const box = s.getBoundingClientRect();
    sections[s.id] = [Math.round(box.top + window.scrollY), Math.round(box.height)];
  });
  // a picture tapped: shown at its own width (and back)
  const zoom = document.querySelector('label.zoom');
  let enlarged = null;
  if (zoom) {
    const img = zoom.querySelector('img'), box = zoom.querySelector('input');
    box.click();
    enlarged = [Math.round(img.getBoundingClientRect().width), img.naturalWidth];
    box.click();
  }
  const tables = Array.from(document.querySelectorAll('.scroll table'));
  const out = document.createElement('pre');
  out.id = '__probe';
  out.textContent = JSON.stringify({
    errors: window.__errors,
    images: images.length,
    broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt),
    page_width: document.documentElement.scrollWidth,
    window_width: window.innerWidth,
    height: document.documentElement.scrollHeight,
    sections: sections,
    picture_widths: images.map(i => Math.round(i.getBoundingClientRect().width)),
    // each picture: its description, its width on the screen and its own width, in px
    pictures: images.map(i => [i.alt, Math.round(i.getBoundingClientRect().width),
                               i.naturalWidth]),
    enlarged: enlarged,
    tables: tables.length,
    sticky_first_column: tables.filter(t => {
      const cell = t.querySelector('tbody tr > :first-child');
      return cell && getComputedStyle(cell).position === 'sticky';
    }).length,
    title: document.title,
  });
  document.body.appendChild(out);
  if (window.parent !== window) window.parent.postMessage(out.textContent, '*');
});
</script>"""
# headless Chromium's window is at least 500 px wide: a phone's width is a frame that wide
# in it (and what the frame's page reports is handed out to the window's)
NARROWEST_WINDOW = 500
FRAME = """<!DOCTYPE html><html><body style="margin: 0">
<iframe src="{src}" style="border: 0; display: block; width: {width}px; height: {height}px">
</iframe><script>
window.addEventListener('message', e => {{
  const out = document.createElement('pre');
  out.id = '__probe';
  out.textContent = e.data;
  document.body.appendChild(out);
}});
</script></body></html>"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise SystemExit("chromium is not installed: apt-get install chromium")
    return found


def _run(arguments: list[str], timeout: int = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        return subprocess.run(
            [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu",
             "--hide-scrollbars", "--no-first-run", "--disable-extensions",
             f"--user-data-dir={profile}", *arguments],
            capture_output=True, text=True, timeout=timeout, check=False)


def _page(report: Path, folder: Path, width: int, height: int) -> tuple[Path, int]:
    """The page to load for ``report`` seen ``width`` px wide, and the window's width: the
    report itself, or a frame of that width around it when the window cannot be so narrow."""
    if width >= NARROWEST_WINDOW:
        return Path(report).resolve(), width
    frame = Path(folder) / "phone.html"
    frame.write_text(FRAME.format(src=Path(report).resolve().as_uri(), width=width,
                                  height=height), encoding="utf-8")
    return frame, NARROWEST_WINDOW


def probe(report: Path, width: int = 1280, height: int = 900) -> dict:
    """Load a copy of ``report`` with the listener and probe added, in a window of this
    size, and return what the page reported (see PROBE)."""
    html = Path(report).read_text(encoding="utf-8")
    html = html.replace("<head>", "<head>" + LISTENER, 1).replace("</body>", PROBE + "</body>")
    with tempfile.TemporaryDirectory(prefix="report-probe-") as folder:
        copy = Path(folder) / "report.html"
        copy.write_text(html, encoding="utf-8")
        page, window = _page(copy, Path(folder), width, height)
        done = _run([f"--window-size={window},{height}", "--virtual-time-budget=20000",
                     "--dump-dom", page.as_uri()])
    found = re.search(r'<pre id="__probe">(.*?)</pre>', done.stdout, re.DOTALL)
    if not found:
        raise RuntimeError(f"chromium did not finish loading {report} (exit "
                           f"{done.returncode}): {done.stderr[-2000:]}")
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&")
                      .replace("&lt;", "<").replace("&gt;", ">"))


def screenshot(report: Path, png: Path, width: int, height: int) -> Path:
    with tempfile.TemporaryDirectory(prefix="report-shot-") as folder:
        page, window = _page(report, Path(folder), width, height)
        done = _run([f"--window-size={window},{height}", "--virtual-time-budget=20000",
                     f"--screenshot={png}", page.as_uri()])
    if not Path(png).exists():
        raise RuntimeError(f"chromium wrote no screenshot: {done.stderr[-2000:]}")
    if window != width:  # the frame alone
        from PIL import Image

        with Image.open(png) as whole:
            whole.crop((0, 0, width, height)).save(png)
    return png


def section_shot(report: Path, png: Path, section: str, width: int = 1280) -> Path:
    """A screenshot of one section of the page (the whole page is taken, then cut)."""
    from PIL import Image

    seen = probe(report, width)
    top, height = seen["sections"][section]
    screenshot(report, png, width, top + height)
    with Image.open(png) as whole:
        whole.crop((0, top, width, top + height)).save(png)
    return png


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--docs", type=Path, default=Path("docs"))
    parser.add_argument("--segment", type=int, default=10,
                        help="the segment whose section is shown (default 10)")
    args = parser.parse_args(argv)
    seen = probe(args.report)
    print(json.dumps({k: v for k, v in seen.items() if k != "sections"}))
    if seen["errors"] or seen["broken"]:
        print("the report did not load cleanly", file=sys.stderr)
        return 1
    args.docs.mkdir(parents=True, exist_ok=True)
    screenshot(args.report, args.docs / "report_overview.png", 1280, 900)
    section_shot(args.report, args.docs / "report_segment.png", f"segment-{args.segment}")
    screenshot(args.report, args.docs / "report_phone.png", 390, 844)
    print(f"wrote report_overview.png, report_segment.png and report_phone.png to {args.docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
