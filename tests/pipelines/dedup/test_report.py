"""The cluster-size histogram, read back from the PNG it writes."""

import matplotlib.image
import numpy as np

from pipelines.dedup.report import BAR_COLOR, cluster_size_figure, plot_cluster_sizes, size_bins

SIZES = {"2": 3000, "3": 600, "392": 1}


def bar_columns(png) -> list[tuple[int, int, int]]:
    """(first column, last column, height in pixels) of every run of columns with bar colour."""
    image = matplotlib.image.imread(png)[:, :, :3]
    rgb = np.array([int(BAR_COLOR[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    is_bar = (np.abs(image - rgb) < 0.02).all(axis=2)
    heights = is_bar.sum(axis=0)
    runs, start = [], None
    for x, h in enumerate([*heights, 0]):
        if h and start is None:
            start = x
        elif not h and start is not None:
            runs.append((start, x - 1, int(heights[start:x].max())))
            start = None
    return runs


def test_every_size_is_a_visible_bar_and_heights_follow_the_counts(tmp_path):
    plot_cluster_sizes(SIZES, tmp_path / "sizes.png")
    bars = bar_columns(tmp_path / "sizes.png")
    assert len(bars) == 3
    (a0, a1, size2), (b0, b1, size3), (c0, c1, size392) = bars
    assert all(last - first >= 10 for first, last, _ in bars)  # each bar is wide, not a sliver
    assert size2 > size3 > size392 >= 5
    assert a1 < b0 < b1 < c0  # in size order, the largest cluster at the right


def test_counts_and_bin_labels_are_written_on_the_figure():
    fig = cluster_size_figure(SIZES)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["3,000", "600", "1"]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[:2] == ["2", "3"] and ticks[-1] == "256-511"
    assert ax.get_yscale() == "log"


def test_sizes_fall_in_logarithmic_bins():
    assert size_bins({"2": 1, "5": 2, "7": 1, "8": 4}) == [("2", 1), ("3", 0), ("4-7", 3),
                                                           ("8-15", 4)]
    assert size_bins({}) == []


def test_no_duplicates_draws_an_empty_titled_chart(tmp_path):
    plot_cluster_sizes({}, tmp_path / "none.png")
    assert bar_columns(tmp_path / "none.png") == []
    fig = cluster_size_figure({})
    assert fig.axes[0].get_title() == "dedup: no duplicates"
