"""The web page end to end in a real headless Chromium: upload, Restore, download, check the duration.

Needs Debian's ``chromium`` (``scripts/install_browser.sh``) and Playwright's Python
package (its driver only: browsers are never downloaded, the system Chromium is used).
A screenshot of the page is left in ``test-artifacts/browser/restore.png``.
"""

from __future__ import annotations

import io
import socket
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from test_uformer import tiny_model

from stemrestore.models import save_checkpoint

pytestmark = [
    pytest.mark.browser,
    # gradio's queue calls pandas APIs that pandas 3 deprecates; not ours to fix.
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "browser"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 60_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def browser(tmp_path):
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not found (install Debian's chromium: scripts/install_browser.sh)")
    playwright = pytest.importorskip(
        "playwright.sync_api", reason="needs the playwright package (pip install playwright)"
    )
    with playwright.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
            headless=True, viewport={"width": 1280, "height": 1000},
        )
        yield context
        context.close()


@pytest.fixture
def server(tmp_path):
    pytest.importorskip("gradio", reason="the web page needs gradio (pip install '.[web]')")
    from stemrestore.app import build_app, launch

    checkpoint = save_checkpoint(tiny_model(0, sample_rate=16000), tmp_path / "tiny_voc", target="Voc")
    app = build_app([checkpoint], device="cpu", work_dir=tmp_path / "work", example_dir=tmp_path / "examples")
    url = launch(app, port=free_port(), block=False)
    yield url
    app.close()


def test_upload_restore_and_download_in_chromium(browser, server, tmp_path):
    sr, frames = 44100, 88200  # 2 s, not the model's rate: the page resamples there and back
    upload = tmp_path / "two seconds.wav"
    tone = 0.3 * np.sin(2 * np.pi * 220 * np.arange(frames) / sr)
    sf.write(upload, np.stack([tone, 0.5 * tone], axis=1).astype(np.float32), sr, subtype="PCM_16")

    page = browser.new_page()
    page.goto(server)
    page.locator("#input-audio input[type=file]").set_input_files(str(upload))
    page.locator("#restore-button").click()
    link = page.locator("#restored-file a[download]")
    link.wait_for(timeout=TIMEOUT_MS)
    # The page's players decode the audio in the browser and show its length (m:ss).
    shown = page.locator("#restored-audio time#duration")
    shown.filter(has_text="0:02").wait_for(timeout=TIMEOUT_MS)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "restore.png"), full_page=True)

    assert link.get_attribute("download") == "two seconds_Voc.wav"
    response = page.request.get(link.get_attribute("href"))
    assert response.ok
    restored, restored_sr = sf.read(io.BytesIO(response.body()), always_2d=True)
    assert restored_sr == sr and restored.shape == (frames, 2)
    assert np.isfinite(restored).all()
    assert shown.inner_text() == page.locator("#input-audio time#duration").inner_text() == "0:02"
    assert "2.00 s" in page.locator("#status").inner_text()
    assert (ARTIFACTS / "restore.png").stat().st_size > 10_000
