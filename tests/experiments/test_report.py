import math
from pathlib import Path

import pytest

from marketlift.experiments.lake import analyze_lake, cumulative_lake
from marketlift.experiments.report import render_report
from marketlift.experiments.results import AnalysisResult, SrmStatus

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def html(lake) -> str:
    result = analyze_lake(lake.path, lake.key, experiment=lake.experiment)
    return render_report(result, cumulative_lake(lake.path, lake.key, experiment=lake.experiment))


def test_report_is_self_contained(html: str) -> None:
    assert "<script" not in html
    assert "<link" not in html
    assert "http" not in html
    assert html.count('class="chart cumulative"') == 4
    assert html.count('class="chart intervals"') == 1


def test_srm_mismatch_is_shown(html: str) -> None:
    assert "Sample ratio OK" in html
    base = AnalysisResult(
        experiment="x<y>",
        control="c",
        alpha=0.05,
        correction="holm",
        arms=(),
        srm=SrmStatus(40.0, 1e-9, True),
        metrics=(),
    )
    bad = render_report(base)
    assert "Sample ratio mismatch" in bad
    assert 'class="srm bad"' in bad
    assert "x&lt;y&gt;" in bad  # names are escaped


@pytest.mark.browser
def test_report_renders_in_chromium(html: str, lake, tmp_path: Path) -> None:
    from playwright import sync_api

    page_file = tmp_path / "report.html"
    page_file.write_text(html, encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 800})
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_file.as_uri())
            assert page.locator("h1").inner_text() == f"Experiment {lake.key}"
            assert page.locator("#srm").is_visible()
            assert "Sample ratio" in page.locator("#srm").inner_text()
            chart = page.locator("svg.intervals")
            assert chart.is_visible()
            box = chart.bounding_box()
            assert box is not None
            assert box["width"] > 500
            assert box["height"] > 50
            assert page.locator("svg.intervals circle").count() == 4
            assert page.locator("svg.cumulative").count() == 4
            assert page.locator("svg.cumulative polyline").first.is_visible()
            rows = page.locator("table.metrics").first.locator("tr")
            assert rows.count() == 5
            lift = rows.nth(1).locator("td").nth(4).inner_text()
            assert lift.endswith("%")
            assert math.isfinite(float(lift.rstrip("%")))
            page.screenshot(path=str(ARTIFACTS / "experiment-report.png"), full_page=True)
            assert requests == [page_file.as_uri()]  # nothing fetched but the page itself
        finally:
            browser.close()
    assert (ARTIFACTS / "experiment-report.png").stat().st_size > 10_000
