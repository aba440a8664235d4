"""Report sizes and render times for a synthetic fleet result (default 200 clusters × 29 rules).

    python benchmarks/report_size.py [--clusters 200] [--repeat 3]

Sizes are exact and stable (bytes). Times are wall-clock medians on this machine — noisy on shared cores,
so read them as orders of magnitude and as ratios between formats, never as test thresholds.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from auditor.report import FILENAMES, Format, render  # noqa: E402
from tests.report.synthetic import synthetic_result  # noqa: E402


def browser_figures(html: str) -> None:
    """Load time and one filter click in headless Chromium (tests/report/cdp.py)."""
    import tempfile

    from tests.report.cdp import Browser, find_chromium

    binary = find_chromium()
    if binary is None:
        print("chromium: not installed")
        return
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        browser = Browser(binary)
        try:
            start = time.perf_counter()
            browser.open(page.as_uri())
            load_ms = (time.perf_counter() - start) * 1000
            click = (
                "(() => { const t = performance.now(); document.querySelector('#filter-problems').click();"
            )
            click += " return performance.now() - t; })()"
            filter_ms = browser.evaluate(click)
            nodes = browser.evaluate("document.getElementsByTagName('*').length")
        finally:
            browser.close()
    print(f"chromium: load {load_ms:.0f} ms (navigate to load event, incl. 0.2 s settle)")
    print(f"chromium: 'problems only' filter {filter_ms:.0f} ms; {nodes:,} DOM elements")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--chromium", action="store_true", help="also time load and filtering in headless Chromium"
    )
    args = parser.parse_args()
    result = synthetic_result(args.clusters)
    counts = result.compute_summary()
    print(
        f"synthetic result: {args.clusters} clusters, {len(result.findings)} findings "
        + " ".join(f"{k}={v}" for k, v in counts.items())
    )
    render(Format.HTML, result)  # warm the template cache
    print(f"{'file':<14}{'bytes':>12}{'gzip bytes':>12}{'bytes/finding':>15}{'median ms':>11}")
    medians: dict[Format, float] = {}
    for fmt in Format:
        times = []
        text = ""
        for _ in range(args.repeat):
            start = time.perf_counter()
            text = render(fmt, result)
            times.append((time.perf_counter() - start) * 1000)
        raw = text.encode("utf-8")
        medians[fmt] = statistics.median(times)
        print(
            f"{FILENAMES[fmt]:<14}{len(raw):>12,}{len(gzip.compress(raw)):>12,}"
            f"{len(raw) / max(len(result.findings), 1):>15.0f}{medians[fmt]:>11.0f}"
        )
    print(f"html/json render-time ratio: {medians[Format.HTML] / max(medians[Format.JSON], 1e-9):.1f}")
    if args.chromium:
        browser_figures(render(Format.HTML, result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
