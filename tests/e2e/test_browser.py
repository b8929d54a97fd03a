"""The dashboard in a real browser: every page renders, filters live in the URL, an upload
rebuilds the database, and a downloaded CSV carries its definitions and the disclosure rule."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from metrics.sample import generate
from tests.e2e.conftest import E2E_SAMPLE

PRACTICE = generate(E2E_SAMPLE)["practices"]["practice_code"].sort()[0]
TIMEOUT = 60_000


def settle(page: Page) -> None:
    """Wait until the script has finished its run (the app is idle)."""
    page.wait_for_selector('[data-test-script-state="notRunning"]', timeout=TIMEOUT)
    expect(page.locator('[data-testid="stSpinner"]')).to_have_count(0, timeout=TIMEOUT)


def visit(page: Page, url: str) -> None:
    page.goto(url)
    settle(page)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def test_every_page_renders_with_its_heading_and_charts(page: Page, app_url: str) -> None:
    pages = {"": "Continuity of care: overview", "practice": "My practice",
             "networks": "Networks", "deprivation": "Deprivation", "data": "Data",
             "export": "Export", "methods": "Methods"}
    for path, heading in pages.items():
        visit(page, f"{app_url}/{path}?practice={PRACTICE}")
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        if path in ("", "practice", "networks", "deprivation"):
            expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=TIMEOUT)
        if path == "practice":  # the bare code in the link chose the practice
            expect(page.get_by_text(f"{PRACTICE}: monthly SLICC: XmR chart").first
                   ).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("Local single-user mode")).to_be_visible()


def test_the_funnel_switch_redraws_the_limits_and_is_kept_in_the_url(page: Page,
                                                                     app_url: str) -> None:
    visit(page, f"{app_url}/networks")
    funnel = page.locator(".js-plotly-plot").first
    expect(funnel).to_contain_text("limits widened for over-dispersion", timeout=TIMEOUT)
    page.get_by_text("Widen limits for over-dispersion").click()
    settle(page)
    expect(funnel).to_contain_text("(unadjusted limits)", timeout=TIMEOUT)
    assert "dispersion=false" in page.url


def test_changing_the_index_filter_updates_the_url_and_the_charts(page: Page,
                                                                 app_url: str) -> None:
    visit(page, app_url)
    expect(page.get_by_text("SLICC by PCN, with 95% intervals")).to_be_visible(timeout=TIMEOUT)
    page.get_by_test_id("stSelectbox").filter(has_text="Index").click()
    page.get_by_role("option", name="UPC", exact=True).click()
    settle(page)
    expect(page.get_by_text("UPC by PCN, with 95% intervals")).to_be_visible(timeout=TIMEOUT)
    assert "index=UPC" in page.url  # a bound widget writes its option's label
    # the shared link opens the same view
    visit(page, page.url)
    expect(page.get_by_text("UPC by PCN, with 95% intervals")).to_be_visible(timeout=TIMEOUT)


def test_export_downloads_the_table_as_shown_with_its_header_block(page: Page, app_url: str,
                                                                   tmp_path: Path) -> None:
    visit(page, f"{app_url}/export?practice={PRACTICE}")
    with page.expect_download(timeout=TIMEOUT) as info:
        page.get_by_role("button", name="Download CSV").click()
    path = tmp_path / "table.csv"
    info.value.save_as(path)
    text = path.read_text("utf-8")
    lines = text.splitlines()
    assert lines[0] == "# product: continuity-of-care dashboard (python -m metrics)"
    assert "# table: Whole dataset: headline figures" in lines
    assert any(line.startswith("# disclosure control: nhs: counts 1-7 shown as *")
               for line in lines)
    header = next(line for line in lines if not line.startswith("#"))
    assert header.split(",")[:3] == ["slicc", "slicc_numerator", "slicc_denominator"]
    assert "patient_id" not in text


def test_uploading_an_extract_checks_it_and_rebuilds_the_database(
        page: Page, app_url: str, e2e_extract: dict[str, Path]) -> None:
    visit(page, f"{app_url}/data")
    uploads = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    # each upload reruns the page: wait until it is listed and sent before the next, or the
    # check can read the extract without its practices file (and see every PCN removed)
    for n, name in enumerate(("appointments", "patients", "practices")):
        uploads.nth(n).set_input_files(str(e2e_extract[name]))
        chip = page.get_by_test_id("stFileChip").filter(has_text=e2e_extract[name].name)
        expect(chip).to_be_visible(timeout=TIMEOUT)
        expect(page.get_by_test_id("stFileChipIconSpinner")).to_have_count(0, timeout=TIMEOUT)
        settle(page)
    expect(page.get_by_text("Column mapping")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("button", name="Check the extract").click()
    settle(page)
    expect(page.get_by_text("Validation report")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("No rows rejected.")).to_be_visible()
    page.get_by_role("button", name="Rebuild the database").click()
    settle(page)
    expect(page.get_by_text("The database was rebuilt from the uploaded extract.")
           ).to_be_visible(timeout=TIMEOUT)
    visit(page, app_url)
    expect(page.get_by_text("SLICC by PCN, with 95% intervals")).to_be_visible(timeout=TIMEOUT)
