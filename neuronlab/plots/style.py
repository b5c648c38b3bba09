"""What every figure shares: the palettes, a new-or-given axes, colour by final size, a seed band.

Colours: the Okabe–Ito palette for categories (colour-blind safe) and viridis for magnitudes; lines
also differ by style or marker, so that no information is carried by colour alone.
"""
import re
from contextlib import contextmanager

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatterSciNotation, NullLocator

#: Okabe & Ito (2008) colour-blind-safe palette
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")


#: colours and markers for the sign of v_α (positive, negative output weight)
SIGN_STYLE = {1: dict(color="#0072B2", marker="o", label="v > 0"),
              -1: dict(color="#D55E00", marker="s", label="v < 0")}


MAGNITUDE_CMAP = "viridis"


#: widest figure, in inches: a notebook column (about 950 px in JupyterLab at 1366 px with the file browser
#: open) at the notebooks' 100 dpi, so that a figure is shown at its own size and its text at its point size
COLUMN_WIDTH = 9.5
#: the course's text sizes (points): the smallest, legends and tick labels, still about 9 pt on screen
plt.rcParams.update({"text.usetex": False, "font.size": 11, "axes.titlesize": 11, "axes.labelsize": 10.5,
                     "xtick.labelsize": 9.5, "ytick.labelsize": 9.5, "legend.fontsize": 9.5,
                     "legend.title_fontsize": 9.5, "figure.titlesize": 11.5,
                     # titles at a fixed height above their axes: no course figure has tick labels on top, and
                     # placing them automatically measured every axis's ticks again at each draw (a fifth of it)
                     "axes.titley": 1.0})


#: zlib level of the course's PNGs (panels, the headless job): 1 encodes in 50–60 % of the time of the
#: default 6 (45 against 75 ms for lesson 05's panel figure, 60 against 125 ms for Figure 1) for files
#: about 7 % larger
PNG_COMPRESSION = 1


def column_size(width: float, height: float) -> tuple[float, float]:
    """(width, height) in inches, the width capped at COLUMN_WIDTH (the height kept: panels get narrower)."""
    return min(width, COLUMN_WIDTH), height


#: a log axis spanning more decades than this is drawn with ticks at decades only
MAX_MINOR_TICK_DECADES = 3


class CourseFigure(Figure):
    """A Figure that, just before drawing, leaves the log axes spanning more than MAX_MINOR_TICK_DECADES
    decades without minor ticks (there they are too dense to read, and their hundreds of tick artists
    took about half of a panel's drawing time), and labels log axes in plain text (`PlainLogFormatter`).

    `update_in_place`: None, or set by the plot function that drew the figure, a function(**values) that
    changes only what depends on those values (a marked step, a threshold) as that plot function would
    have drawn it, keeping the axes, their ticks and the layout. A panel's redraw slider uses it: drawing
    a figure anew spent most of its time making axes and tick artists."""

    update_in_place = None

    def draw(self, renderer):
        for ax in all_axes(self):
            for axis in (ax.xaxis, ax.yaxis):
                _minor_ticks_where_readable(axis)
                _label_logs_in_plain_text(axis)
        super().draw(renderer)


def _minor_ticks_where_readable(axis) -> None:
    """Hide the minor ticks of `axis` while it spans more than MAX_MINOR_TICK_DECADES decades, and give
    them back once it spans fewer (an update in place can change its limits)."""
    hidden = getattr(axis, "_neuronlab_minor", None)  # (locator, whether it was matplotlib's default)
    if _decades(axis) > MAX_MINOR_TICK_DECADES:
        if hidden is None:
            axis._neuronlab_minor = (axis.get_minor_locator(), axis.isDefault_minloc)
            axis.set_minor_locator(NullLocator())
    elif hidden is not None:
        axis.set_minor_locator(hidden[0])
        axis.isDefault_minloc, axis._neuronlab_minor = hidden[1], None


class PlainLogFormatter(LogFormatterSciNotation):
    """The tick labels of matplotlib's log axes (10⁻³, 2×10⁻³), written in plain text with Unicode
    superscripts instead of mathematical text: they look the same, and they are drawn without the
    mathtext engine, whose parsing took a fifth of Figure 1's drawing."""

    def __call__(self, x, pos=None):
        return plain_text(super().__call__(x, pos))


def _label_logs_in_plain_text(axis) -> None:
    """Give `axis` PlainLogFormatters where it has matplotlib's default log formatters, keeping their settings."""
    for minor, formatter in ((False, axis.get_major_formatter()), (True, axis.get_minor_formatter())):
        if type(formatter) is LogFormatterSciNotation:
            plain = PlainLogFormatter()
            plain.__dict__.update(formatter.__dict__)   # the same base, thresholds and axis
            (axis.set_minor_formatter if minor else axis.set_major_formatter)(plain)


#: a label as the log formatters write it: $\mathdefault{…}$
_MATH_LABEL = re.compile(r"^\$\\mathdefault\{(.*)\}\$$")
_POWER = re.compile(r"\^\{([^{}]*)\}")
_SUPERSCRIPTS = str.maketrans("0123456789-−", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁻")


def plain_text(label: str) -> str:
    """A log-axis tick label in plain text: "$\\mathdefault{2\\times10^{-3}}$" -> "2×10⁻³" (a leading
    minus as "−"); any other label unchanged."""
    match = _MATH_LABEL.match(label)
    if match is None:
        return label
    text = _POWER.sub(lambda power: power.group(1).translate(_SUPERSCRIPTS), match.group(1).replace("\\times", "×"))
    if any(mark in text for mark in "\\{}^_$"):
        return label   # more mathematical text than a power: left to the mathtext engine
    return "−" + text[1:] if text.startswith("-") else text


def all_axes(figure) -> list:
    """The axes of `figure` and of its subfigures, at any depth."""
    return figure.axes + [ax for sub in figure.subfigs for ax in all_axes(sub)]


def layout_of(figure) -> tuple:
    """(size in inches, every axes' position, the positions of the figure's super title and labels, the
    shapes of every axes' tick labels) of a drawn figure, in figure fractions: to draw another figure of
    the same make without solving its layout again (`apply_layout`)."""
    return (tuple(figure.get_size_inches()), [ax.get_position() for ax in figure.axes],
            [text.get_position() if text is not None else None for text in _super_texts(figure)],
            tick_label_shapes(figure))


def tick_label_shapes(figure) -> list:
    """For every axes, (x, y): how its axis's tick labels at the present limits are made, as (whether
    they are mathematical text, the characters of the longest, without markup). In the course's font
    (DejaVu Sans) every digit has one width, so a label of no more characters is no wider (10⁻³ and 10⁻⁶
    alike, 10⁰ narrower, 10⁻¹⁰ wider), and one of the same kind as tall. Found without making the tick
    artists, which drawing does."""
    return [(_label_shape(ax.xaxis), _label_shape(ax.yaxis)) for ax in figure.axes]


def _label_shape(axis) -> tuple[bool, int]:
    low, high = sorted(axis.get_view_interval())
    locations = [location for location in axis.get_major_locator()() if low <= location <= high]
    labels = [plain_text(label) for label in axis.get_major_formatter().format_ticks(locations) if label]
    visible = [label.replace("\\mathdefault", "").translate(_MARKUP) for label in labels]
    return any("$" in label for label in labels), max(map(len, visible), default=0)


#: characters of mathematical text that are markup, not drawn
_MARKUP = str.maketrans("", "", "${}^_")


def _fit_within(shapes: list, kept: list) -> bool:
    """Whether every axis's tick labels (`tick_label_shapes`) are of the kind, and no longer than, those
    it had in `kept`."""
    return len(shapes) == len(kept) and all(
        new_math == old_math and new_length <= old_length
        for axes, kept_axes in zip(shapes, kept) for (new_math, new_length), (old_math, old_length) in zip(axes, kept_axes))


def _super_texts(figure) -> list:
    """The figure's suptitle, supxlabel and supylabel (None where it has none): constrained layout moves them."""
    return [figure._suptitle, figure._supxlabel, figure._supylabel]


def apply_layout(figure, layout, same_ticks: bool = False) -> bool:
    """Place the axes of `figure` where `layout` (from `layout_of`) had them and switch its layout engine
    off. Returns False, changing nothing, unless the figure has the same size, number of axes and super
    texts (and no subfigures, whose own boxes the layout does not hold), and with `same_ticks`, unless
    every axis's tick labels are also of the kind and no longer than there (`tick_label_shapes`: a new
    run drawn on axes with other limits but no wider labels, so that the margins left for them fit)."""
    size, positions, text_positions, shapes = layout
    texts = _super_texts(figure)
    if (figure.subfigs or tuple(figure.get_size_inches()) != size or len(figure.axes) != len(positions)
            or [text is None for text in texts] != [position is None for position in text_positions]
            or (same_ticks and not _fit_within(tick_label_shapes(figure), shapes))):
        return False
    figure.set_layout_engine("none")
    for ax, position in zip(figure.axes, positions):
        ax.set_position(position)
    for text, position in zip(texts, text_positions):
        if text is not None:
            text.set_position(position)
    return True


def _decades(axis) -> float:
    """How many decades a log or symlog axis spans (0 for a linear one). For symlog, from its linear
    threshold to the largest |limit|."""
    scale, (low, high) = axis.get_scale(), sorted(np.abs(axis.get_view_interval()))
    if scale == "symlog":
        low = axis.get_transform().linthresh
    if scale not in ("log", "symlog") or low <= 0 or high <= low:
        return 0.0
    return float(np.log10(high / low))


def figure(figsize=(5, 3.5)):
    """`plt.figure` for the course: a CourseFigure no wider than a notebook column, constrained layout."""
    return plt.figure(figsize=column_size(*figsize), layout="constrained", FigureClass=CourseFigure)


def subplots(*grid, figsize=(5, 3.5), **options):
    """`plt.subplots` with a constrained layout, a CourseFigure no wider than a notebook column."""
    return plt.subplots(*grid, figsize=column_size(*figsize), layout="constrained", FigureClass=CourseFigure,
                        **options)


def axes_or_new(ax=None, figsize=(5, 3.5)):
    """The figure and axes to draw on: those of `ax`, or a new single-panel figure."""
    if ax is None:
        return subplots(figsize=figsize)
    return ax.figure, ax


def final_norm_colours(history):
    """A LogNorm over the final norm products, to colour neurons by how big they end up."""
    final = np.maximum(history.norm_product[-1], 1e-300)
    return LogNorm(vmin=final.min(), vmax=final.max())


def band(ax, x, values, style, log=False):
    """Centre of the rows of `values` ((S, n): mean, or geometric mean with `log`) as a line drawn with
    `style` (colour, line style, marker, label), and their min–max as a shaded band when S > 1. Returns
    the line (`move_band` gives it other values of one row)."""
    values = np.atleast_2d(values)
    centre = np.exp(np.mean(np.log(values), axis=0)) if log else np.mean(values, axis=0)
    (line,) = ax.plot(x, centre, markevery=_every_tenth(x), markersize=4.5, linewidth=1.5, **style)
    if len(values) > 1:
        ax.fill_between(x, values.min(axis=0), values.max(axis=0), color=style["color"], alpha=0.16, linewidth=0)
    return line


def _every_tenth(x) -> int:
    """The marker spacing of a band's line: about ten markers along it."""
    return max(len(x) // 10, 1)


def move_band(line, x, values) -> None:
    """Give a `band` line of one row the values (n,) at x (n,), with its markers spaced as `band` spaces them."""
    line.set_data(x, values)
    line.set_markevery(_every_tenth(x))


#: gid of the artists that show a redraw value (a dotted line at the marked step, a star at a threshold):
#: an update in place removes them and draws them again at the new value (`marks_redrawn`)
MARK = "neuronlab-mark"


@contextmanager
def marks_redrawn(*axes):
    """An update in place: on entering, remove the artists of gid MARK from `axes`; the block draws them
    again at the new value; on leaving, autoscale each of `axes` as a new figure would (`refit_limits`).
    (A function that draws marks draws them after the rest of its axes, so that drawn again they come in
    the same order, and makes any legend anew, replacing the old.)"""
    for ax in axes:
        for artist in [child for child in ax.get_children() if child.get_gid() == MARK]:
            artist.remove()
    yield
    for ax in axes:
        refit_limits(ax)


def refit_limits(ax) -> None:
    """Autoscale `ax` to the data of all its artists, as if they had been drawn onto new axes: after an
    update in place has removed, added or changed some. (`Axes.relim` counts lines, patches and images;
    the collections are added here by their points in data units: the vertices of those drawn in data
    units, such as shaded bands and line collections, the positions of the others, such as scatter points.
    `Collection.get_datalim` would give log axes their logarithms.)"""
    ax.relim()
    for collection in ax.collections:
        if collection.get_transform() == ax.transData:
            paths = collection.get_paths()
            points = np.concatenate([path.vertices for path in paths]) if paths else np.empty((0, 2))
        else:
            points = collection.get_offsets()
        ax.update_datalim(points)
    ax.autoscale_view()
