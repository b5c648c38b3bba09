"""Hand-built toy problems whose initial weights are chosen, not drawn, to show one mechanism at a time.

`locked_neuron_toy` (notebook 02, unlocking): one neuron in 2-D that starts active on a sample it should
not be active on, heads for a target it can never reach, and is released when rotation switches that
sample off. Train it with `train(task, init=params, ...)`.
"""
import numbers

import numpy as np

from .data import Task
from .model import Params, check_positive


def _degrees(name: str, value) -> float:
    """`value` as a float angle in degrees, or ValueError unless it is a finite real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite angle in degrees (a number such as 75), got {value!r}.")
    return float(value)


def unit_vector(angle_deg: float) -> np.ndarray:
    """The 2-D unit vector at `angle_deg` degrees from the x₁ axis (anticlockwise); (2,)."""
    angle = np.radians(angle_deg)
    return np.array([np.cos(angle), np.sin(angle)])


def polar_angle(vectors: np.ndarray) -> np.ndarray:
    """Angle in degrees, in (−180, 180], of 2-D vectors (..., 2)."""
    vectors = np.asarray(vectors, dtype=float)
    return np.degrees(np.arctan2(vectors[..., 1], vectors[..., 0]))


def locked_neuron_toy(start_deg: float = 75.0, negative_deg: float = 120.0,
                      scale: float = 1e-3) -> tuple[Task, Params]:
    """Two samples on the unit circle and one neuron that starts active on both; returns (Task, Params).

    Samples: x₊ at 0° with label +1 and x₋ at `negative_deg` with label −1 (0 < negative_deg < 180).
    Neuron: w at `start_deg` with ‖w‖ = `scale` and v = +`scale` (balanced, positive output weight).

    With the defaults the neuron is active on both samples, so while f ≈ 0 its target is
    t̂ ∝ x₊ − x₋, at −(90° − negative_deg/2) = −30°. That direction lies on the inactive side of x₋
    (t̂ · x₋ = (cos negative_deg − 1)/‖x₊ − x₋‖ < 0), so the neuron cannot get there: rotating towards it,
    w crosses the boundary w · x₋ = 0 (at negative_deg − 90° = 30°), x₋ switches off, and the target
    jumps to x₊ at 0°, where it is free to go (released) because x₊ is on x₋'s inactive side too.
    With negative_deg < 90°, x₊ lies on x₋'s active side: the new target sends the neuron back across the
    boundary, which switches x₋ on again, and the neuron stays stuck on the boundary, x₋ switching at
    (almost) every step. Other starts give other fates (e.g. 150°: active on x₋ only, it dies).
    The test set is the training set: the toy is about dynamics, not generalisation.
    """
    negative_deg, start_deg = _degrees("negative_deg", negative_deg), _degrees("start_deg", start_deg)
    if not 0.0 < negative_deg < 180.0:
        raise ValueError(f"negative_deg must lie strictly between 0 and 180 degrees, got {negative_deg!r}.")
    scale = check_positive("scale", scale)
    X = np.stack([unit_vector(0.0), unit_vector(negative_deg)])
    y = np.array([1.0, -1.0])
    task = Task(name=f"locked neuron toy (x₋ at {negative_deg:g}°, start at {start_deg:g}°)",
                X_train=X, y_train=y, X_test=X.copy(), y_test=y.copy(), class_names=("positive", "negative"))
    params = Params(scale * unit_vector(start_deg)[None, :], np.array([scale]))
    return task, params
