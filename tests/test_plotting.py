"""Tests of alphaflops.plotting: published-style plots and scatter plots."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.colors import to_rgba

from alphaflops.plotting import (
    is_valid_mathtext,
    plot_plot,
    plot_predicted_vs_measured,
    plot_residuals,
    x_values,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def make_plot(annotations=(), axis=2, ylim=None, x_label="$C_{in}$ Size", line_count=2):
    """Build a small plot: lines of 1x1 and 3x3 convolutions with growing Cin."""
    from alphaflops.datasets import Plot

    lines = []
    for number in range(line_count):
        kernel = 1 + 2 * number
        cin = np.arange(100.0, 600.0, 100.0)
        rows = np.column_stack([
            np.full_like(cin, 10.0), np.full_like(cin, 10.0), cin,
            np.full_like(cin, 1000.0), np.full_like(cin, kernel), np.full_like(cin, kernel),
            0.2 + cin * kernel**2 * 1e-3,
        ])
        lines.append(rows)
    return Plot(
        name="increasing_Cin",
        axis=axis,
        x_label=x_label,
        ylim=ylim,
        annotations=list(annotations),
        lines=lines,
        line_kinds=["conv2d"] * line_count,
        hardware={},
    )


def flops_time(rows):
    return 2e-8 * np.prod(rows, axis=1) + 0.1


def half_time(rows):
    return 1e-8 * np.prod(rows, axis=1) + 0.05


def test_mathtext_check_unbalanced_dollar():
    assert not is_valid_mathtext("C_{out} = 1000$")


def test_mathtext_check_unknown_symbol():
    assert not is_valid_mathtext(r"$\notacommand$")


def test_mathtext_check_valid_and_plain():
    assert is_valid_mathtext("$C_{in} = 150$")
    assert not is_valid_mathtext("plain label")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(*[st.integers(1, 4096)] * 6), min_size=1, max_size=20))
def test_progressive_axis_formula(dimensions):
    rows = np.array(dimensions, dtype=np.float64)
    expected = np.sqrt(rows.prod(axis=1) / 10000.0)
    np.testing.assert_allclose(x_values(rows, "progressive"), expected, rtol=1e-12)


@pytest.mark.parametrize("axis", range(6))
def test_column_axis_picks_column(axis):
    rows = np.arange(1.0, 22.0).reshape(3, 7)
    np.testing.assert_array_equal(x_values(rows, axis), rows[:, axis])


@pytest.mark.parametrize("axis", [6, -1, "diagonal", True])
def test_invalid_axis_raises(axis):
    with pytest.raises(ValueError, match="invalid plot axis"):
        x_values(np.ones((2, 7)), axis)


def test_invalid_mathtext_annotation_saves_png(tmp_path):
    annotations = [(100, 14, "$D = 10 x 10 x C_{in}$"), (100, 13, "C_{out} = 1000$"),
                   (200, 5, r"$\notacommand$")]
    path = tmp_path / "plot.png"
    ax = plot_plot(make_plot(annotations), predict=flops_time, save_as=path)

    texts = [text.get_text() for text in ax.texts]
    assert "C_{out} = 1000$" in texts
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_predictions_dashed_in_line_colour():
    ax = plot_plot(make_plot(), predict=flops_time)

    measured, predicted = ax.lines[0], ax.lines[1]
    assert measured.get_linestyle() == "-"
    assert predicted.get_linestyle() == "--"
    assert to_rgba(predicted.get_color()) == to_rgba(measured.get_color())
    assert to_rgba(ax.lines[2].get_color()) != to_rgba(measured.get_color())


def test_several_predictors_in_legend():
    plot = make_plot(line_count=3)
    ax = plot_plot(plot, predict={"flops": flops_time, "half": half_time})

    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["measured", "flops", "half"]
    assert len(ax.lines) == 3 * 3


def test_predict_hook_gets_six_columns():
    shapes = []

    def record_shape(rows):
        shapes.append(rows.shape)
        return np.ones(len(rows))

    plot_plot(make_plot(line_count=2), predict=record_shape)
    assert shapes == [(5, 6), (5, 6)]


def test_predicted_values_drawn():
    plot = make_plot(line_count=1)
    ax = plot_plot(plot, predict=flops_time)

    expected = flops_time(plot.lines[0][:, :6])
    np.testing.assert_allclose(ax.lines[1].get_ydata(), expected)
    np.testing.assert_allclose(ax.lines[1].get_xdata(), plot.lines[0][:, 2])


def test_line_selection_draws_subset():
    ax = plot_plot(make_plot(line_count=3), lines=[2])
    assert len(ax.lines) == 1


def test_line_selection_out_of_range():
    with pytest.raises(ValueError, match="line index 5 out of range"):
        plot_plot(make_plot(line_count=2), lines=[5])


def test_predictor_wrong_shape_raises():
    with pytest.raises(ValueError, match=r"returned shape \(1,\)"):
        plot_plot(make_plot(), predict=lambda rows: np.ones(1))


def test_predictor_non_finite_raises():
    with pytest.raises(ValueError, match="non-finite"):
        plot_plot(make_plot(), predict=lambda rows: np.full(len(rows), np.nan))


def test_ylim_and_labels_applied():
    ax = plot_plot(make_plot(ylim=2.5, x_label="Cout size"))
    assert ax.get_ylim() == (0.0, 2.5)
    assert ax.get_xlabel() == "Cout size"
    assert ax.get_ylabel() == "time (ms)"


def test_draws_into_given_axes():
    from matplotlib.figure import Figure

    figure = Figure()
    axes = figure.subplots(1, 2)
    returned = plot_plot(make_plot(), ax=axes[1])
    assert returned is axes[1]
    assert len(axes[1].lines) == 2
    assert len(axes[0].lines) == 0


def test_plot_without_pyplot(tmp_path):
    """Plotting works headless because it never imports pyplot."""
    script = (
        "import sys, numpy as np\n"
        "from alphaflops.plotting import plot_predicted_vs_measured\n"
        "y = np.array([0.5, 1.0, 2.0])\n"
        f"plot_predicted_vs_measured(y, {{'m': y * 1.05}}, save_as={str(tmp_path / 's.png')!r})\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
    )
    environment = {"PATH": "", "MPLBACKEND": "", "MPLCONFIGDIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=environment, timeout=120, check=True)
    assert result.stdout.strip() == "False"
    assert (tmp_path / "s.png").read_bytes().startswith(PNG_SIGNATURE)


def test_scatter_has_band_and_models(tmp_path):
    y = np.array([0.2, 1.0, 5.0, 20.0])
    path = tmp_path / "scatter.png"
    ax = plot_predicted_vs_measured(y, {"a": y * 1.05, "b": y * 0.5}, save_as=path)

    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["within +-10%", "predicted = measured", "a", "b"]
    assert ax.get_xscale() == "log"
    assert ax.get_yscale() == "log"
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_scatter_rejects_non_positive():
    y = np.array([0.2, 1.0])
    with pytest.raises(ValueError, match="predictions of 'a' must be positive"):
        plot_predicted_vs_measured(y, {"a": np.array([0.1, -1.0])})


def test_residuals_one_axes_per_dimension(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.integers(1, 100, size=(30, 6)).astype(float)
    y = 0.1 + X.prod(axis=1) * 1e-9
    figure = plot_residuals(X, y, {"m": y * 1.1}, save_as=tmp_path / "residuals.png")

    assert [ax.get_xlabel() for ax in figure.axes] == ["H", "W", "Cin", "Cout", "K1", "K2"]
    np.testing.assert_allclose(figure.axes[0].collections[-1].get_offsets()[:, 1], 0.1)
    assert (tmp_path / "residuals.png").exists()


def test_residuals_wrong_shape_raises():
    with pytest.raises(ValueError, match=r"X must have shape \(3, 6\)"):
        plot_residuals(np.ones((3, 5)), np.ones(3), {})


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan])
def test_residuals_reject_invalid_predictions(bad):
    with pytest.raises(ValueError, match="predictions of 'm' must be positive"):
        plot_residuals(np.ones((2, 6)), np.ones(2), {"m": np.array([1.0, bad])})


def test_residuals_reject_prediction_length():
    with pytest.raises(ValueError, match=r"predictions of 'm' must have shape \(2,\)"):
        plot_residuals(np.ones((2, 6)), np.ones(2), {"m": np.ones(3)})


def test_every_published_plot_draws(t2000_path, tmp_path):
    from alphaflops import load_dataset, published_model

    dataset = load_dataset(t2000_path)
    model = published_model()
    for index, plot in enumerate(dataset.plots):
        path = tmp_path / f"{index}.png"
        plot_plot(plot, predict={"alpha_published": model.predict}, save_as=path)
        assert path.read_bytes().startswith(PNG_SIGNATURE)
