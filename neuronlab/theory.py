"""Closed forms derived in this course (not taken from the paper) for one neuron whose gated data
vector u is frozen (k = ‖u‖, û = u/k), and a simulation to draw them against.

Under gradient flow ẇ = v u, v̇ = w·u, the angle δ between w and the target direction t̂ = sign(v) û
and the norm product a = |v| ‖w‖ of a balanced neuron (‖w‖ = |v|) obey

    tan(δ(t)/2) = tan(δ(0)/2) e^{−kt},
    a(t) = a(0) e^{2kt} ((1 + z e^{−2kt}) / (1 + z))²,  z = tan²(δ(0)/2),
    a(t) ≈ a(0) e^{2kt} cos⁴(δ(0)/2)  for kt ≫ 1.

Any neuron, balanced or not: write p = w·û for the part of w along û. Then ṗ = k v and v̇ = k p, while
the part of w perpendicular to û never changes, so

    p(t) + v(t) = (p(0) + v(0)) e^{kt},    p(t) − v(t) = (p(0) − v(0)) e^{−kt}.

Only the "growing mode" c₊ = (p + v)/2 survives: p and v both tend to c₊ e^{kt}, the neuron becomes
balanced and aligned, and a(t) ≈ c₊(0)² e^{2kt}. With p = sign(v) ‖w‖ cos δ,
c₊² = (‖w‖ cos δ + |v|)² / 4, which is a(0) cos⁴(δ(0)/2) for a balanced neuron.
"""
import numpy as np


def frozen_neuron_angle(delta0, k: float, t):
    """δ(t) in radians from δ(0) = delta0 (radians, in [0, π)), rate k = ‖u‖, time t."""
    return 2 * np.arctan(np.tan(np.asarray(delta0) / 2) * np.exp(-k * np.asarray(t)))


def frozen_neuron_norm_product(a0: float, delta0, k: float, t):
    """a(t) = a(0) e^{2kt} ((1 + z e^{−2kt}) / (1 + z))² with z = tan²(δ(0)/2)."""
    t = np.asarray(t, dtype=float)
    z = np.tan(np.asarray(delta0) / 2) ** 2
    return a0 * np.exp(2 * k * t) * ((1 + z * np.exp(-2 * k * t)) / (1 + z)) ** 2


def frozen_neuron_asymptote(a0: float, delta0, k: float, t):
    """Late-time form a(0) e^{2kt} cos⁴(δ(0)/2): the head start a better-aligned neuron keeps."""
    return a0 * np.exp(2 * k * np.asarray(t, dtype=float)) * np.cos(np.asarray(delta0) / 2) ** 4


def frozen_neuron_state(w0: np.ndarray, v0: float, u: np.ndarray, t):
    """Exact (w(t), v(t)) under gradient flow with u frozen, for any initial balance.

    w0 (D,), v0 scalar, u (D,) with u ≠ 0, t scalar or (T,). Returns w (T, D) and v (T,) (or (D,), scalar).
    """
    k = np.linalg.norm(u)
    direction = u / k
    t = np.asarray(t, dtype=float)
    p0 = w0 @ direction
    grow, decay = (p0 + v0) / 2 * np.exp(k * t), (p0 - v0) / 2 * np.exp(-k * t)
    p, v = grow + decay, grow - decay
    w = (w0 - p0 * direction) + p[..., None] * direction
    return w, v


def growing_mode(w_norm, v, cos_delta):
    """c₊² = (‖w‖ cos δ + |v|)² / 4: the norm product that the growing mode of a neuron reaches,
    a(t) ≈ c₊² e^{2kt} once kt ≫ 1 (frozen u). Arrays of any matching shape (e.g. (d,) per neuron)."""
    return (np.asarray(w_norm) * np.asarray(cos_delta) + np.abs(v)) ** 2 / 4


def balanced_neuron(delta0: float, a0: float, dim: int = 2, sign: float = 1.0):
    """A balanced neuron (w, v) in R^dim with ‖w‖ = |v| = √a0 at angle delta0 from e₁ (·sign(v)).

    The matching frozen data vector is u = k e₁, so the target direction is sign(v) e₁.
    """
    w = np.zeros(dim)
    w[0], w[1] = sign * np.cos(delta0), np.sin(delta0)
    return np.sqrt(a0) * w, sign * np.sqrt(a0)


def simulate_frozen_neuron(w0: np.ndarray, v0: float, u: np.ndarray, lr: float, steps: int):
    """Gradient descent w ← w + η v u, v ← v + η w·u with u frozen; returns (angles (T+1,), a (T+1,)).

    angles: δ between w and sign(v) û (radians); a: |v| ‖w‖. Time t = step · η.
    """
    w, v = np.array(w0, dtype=float), float(v0)
    target = u / np.linalg.norm(u)
    angles, norm_products = [], []
    for _ in range(steps + 1):
        cos_delta = np.sign(v) * (w @ target) / np.linalg.norm(w)
        angles.append(np.arccos(np.clip(cos_delta, -1, 1)))
        norm_products.append(abs(v) * np.linalg.norm(w))
        w, v = w + lr * v * u, v + lr * (w @ u)
    return np.array(angles), np.array(norm_products)


def frozen_neuron_run(delta0_deg: float = 60.0, k: float = 1.0, lr: float = 0.01, horizon: float = 5.0,
                      a0: float = 1e-4) -> dict:
    """A balanced neuron started at δ₀ (degrees) from a frozen u = k e₁, trained by gradient descent up to
    time `horizon` (t = step · η), next to the closed forms. Returns (T+1,) arrays "t", "angle" and
    "norm_product" (simulated), "closed_angle", "closed_norm_product", "asymptote" (late-time
    a(0) e^{2kt} cos⁴(δ₀/2)), "aligned" (a(0) e^{2kt}), and "delta0_deg", "lr", "head_start" = cos⁴(δ₀/2)."""
    delta0 = np.radians(delta0_deg)
    steps = int(round(horizon / lr))
    w0, v0 = balanced_neuron(delta0, a0)
    angle, norm_product = simulate_frozen_neuron(w0, v0, np.array([k, 0.0]), lr, steps)
    t = np.arange(steps + 1) * lr
    return {"t": t, "angle": angle, "norm_product": norm_product,
            "closed_angle": frozen_neuron_angle(delta0, k, t),
            "closed_norm_product": frozen_neuron_norm_product(a0, delta0, k, t),
            "asymptote": frozen_neuron_asymptote(a0, delta0, k, t), "aligned": a0 * np.exp(2 * k * t),
            "delta0_deg": float(delta0_deg), "lr": float(lr), "head_start": float(np.cos(delta0 / 2) ** 4)}
