"""Files other people drop where Agam looks (BMD bulletins, FFWC log sheets, a flood raster)
are read only as themselves: never through a link out of their folder, never from a FIFO,
never beyond the feed's byte limit. A refusal is one feed error naming the file; the run's
raw artifacts never hold what the link pointed at."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from agam.core.errors import FeedError
from agam.core.timeutil import SteppedClock
from agam.pipeline.context import AppContext
from agam.scheduler import run_feed_job
from hazard_feeds import dropped_files
from hazard_feeds.bmd import BmdConfig, BmdFeed
from hazard_feeds.feed_configs import FfwcLogsheetConfig, GlofasConfig, RasterConfig
from hazard_feeds.ffwc_logsheet import FfwcLogsheetFeed
from hazard_feeds.glofas import GlofasFeed
from hazard_feeds.limits import use_limits, with_section
from hazard_feeds.raster import RasterFeed
from tests.feeds.conftest import BMD_JUDGED_AT, drop_bulletin
from tests.season.conftest import constructed_bulletin

SECRET = b"NID 19857512345678901, wallet 01712345678: what the store holds"


def bmd_in(folder: Path) -> BmdFeed:
    return BmdFeed(BmdConfig(interval_minutes=10, drop_folder=folder))


def newest_link(folder: Path, name: str, target: Path) -> Path:
    link = folder / name
    link.symlink_to(target)
    os.utime(link, (4_000, 4_000), follow_symlinks=False)
    return link


def test_a_link_out_of_the_drop_folder_fails_the_run_and_keeps_nothing(
    bmd_site: tuple[AppContext, Path], tmp_path: Path
) -> None:
    ctx, drop = bmd_site
    drop_bulletin(drop, "sl7.json", constructed_bulletin(7, BMD_JUDGED_AT, 60.0, 48), 1_000)
    assert run_feed_job(ctx, "bmd")[0].outcome == "success"
    store_file = tmp_path / "elsewhere" / "agam.sqlite3"
    store_file.parent.mkdir()
    store_file.write_bytes(SECRET)
    newest_link(drop, "zz.json", store_file)
    outcome, changes = run_feed_job(ctx, "bmd")
    assert (outcome.outcome, changes) == ("failed", [])
    assert "zz.json is a link to a file outside its folder: refused" in (outcome.error or "")
    kept = [p for p in ctx.settings.raw_dir.rglob("*") if p.is_file()]
    assert kept
    assert not any(SECRET in p.read_bytes() for p in kept)


def test_a_link_to_a_file_of_the_same_folder_is_read_as_that_file(tmp_path: Path) -> None:
    bulletin = constructed_bulletin(7, BMD_JUDGED_AT, 60.0, 48)
    drop_bulletin(tmp_path, "sl7-2026-05-20.json", bulletin, 1_000)
    newest_link(tmp_path, "latest.json", tmp_path / "sl7-2026-05-20.json")
    raw = bmd_in(tmp_path).fetch(None, None)
    assert raw.content == bulletin.encode()
    assert raw.source_uri.endswith("latest.json")


def test_a_dangling_link_is_one_clear_error(tmp_path: Path) -> None:
    newest_link(tmp_path, "gone.json", tmp_path / "sub" / "removed.json")
    with pytest.raises(FeedError, match=r"gone\.json is a link to a file outside its folder"):
        bmd_in(tmp_path).fetch(None, None)
    newest_link(tmp_path, "gone2.json", tmp_path / "removed.json")  # same folder, no file
    with pytest.raises(FeedError, match=r"cannot read .*gone2.json"):
        bmd_in(tmp_path).fetch(None, None)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.json")
    told: list[BaseException] = []

    def fetch() -> None:
        try:
            bmd_in(tmp_path).fetch(None, None)
        except BaseException as exc:  # handed to the test thread
            told.append(exc)

    reader = threading.Thread(target=fetch, daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "the fetch waited on the FIFO"
    assert len(told) == 1
    assert isinstance(told[0], FeedError)
    assert "pipe.json is not a regular file: refused" in str(told[0])


def test_a_file_over_the_feed_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as handle:  # sparse: large on paper, nothing written
        handle.truncate(5_000)
    with (
        use_limits(with_section("bmd", max_bytes=4_096)),
        pytest.raises(FeedError, match=r"big.json is 5,000 bytes, over the 4,096-byte limit"),
    ):
        bmd_in(tmp_path).fetch(None, None)


def test_log_sheets_mirrors_and_rasters_are_read_the_same_way(tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_bytes(SECRET)
    sheets = tmp_path / "sheets"
    sheets.mkdir()
    newest_link(sheets, "latest.csv", outside)
    with pytest.raises(FeedError, match=r"latest\.csv is a link to a file outside its folder"):
        FfwcLogsheetFeed(FfwcLogsheetConfig(enabled=False, path=sheets)).fetch(None, None)
    with pytest.raises(FeedError, match=r"latest\.csv is a link to a file outside its folder"):
        FfwcLogsheetFeed(FfwcLogsheetConfig(enabled=False, path=sheets / "latest.csv")).fetch(
            None, None
        )
    glofas = GlofasFeed(GlofasConfig(enabled=False, mirror_url=f"file://{sheets}/g.nc"))
    glofas.clock = SteppedClock(BMD_JUDGED_AT)
    newest_link(sheets, "g.nc", outside)
    with pytest.raises(FeedError, match=r"g\.nc is a link to a file outside its folder"):
        glofas.fetch(None, None)
    rasters = tmp_path / "rasters"
    rasters.mkdir()
    newest_link(rasters, "flood.tif", outside)
    config = RasterConfig(interval_minutes=60, url=str(rasters / "flood.tif"))
    with pytest.raises(FeedError, match=r"flood\.tif is a link to a file outside its folder"):
        RasterFeed(config).fetch(None, None)


def test_a_hard_link_is_read_only_where_the_kernel_protects_hard_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without `fs.protected_hardlinks` anyone who may drop files could hard-link the store
    into the folder; a file with several links is then refused, naming the setting."""
    outside = tmp_path / "store.json"
    outside.write_bytes(SECRET)
    folder = tmp_path / "drop"
    folder.mkdir()
    os.link(outside, folder / "zz.json")
    monkeypatch.setattr(dropped_files, "PROTECTED_HARDLINKS", tmp_path / "off")
    (tmp_path / "off").write_text("0\n")
    with pytest.raises(FeedError, match=r"zz\.json has 2 hard links .*protected_hardlinks"):
        bmd_in(folder).fetch(None, None)
    (tmp_path / "off").unlink()  # unreadable: assumed off
    with pytest.raises(FeedError, match=r"zz\.json has 2 hard links"):
        bmd_in(folder).fetch(None, None)
    (tmp_path / "off").write_text("1\n")  # protected: the kernel vouches for the dropper
    assert bmd_in(folder).fetch(None, None).content == SECRET  # the parser judges it next
