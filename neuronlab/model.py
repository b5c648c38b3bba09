"""The network of the course: f(x) = Σ_α v_α relu(w_α · x), with the loss L = (1/2N) Σ_i (y_i − f(x_i))².

Weights live in plain NumPy arrays (`Params`) so that learners can inspect them; the textbook
PyTorch module (`TwoLayerReLU`) is built from the same arrays.
"""
import numbers
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class Params:
    """Weights of a width-d network on D inputs.

    W: (d, D) incoming weights, row α is w_α.   v: (d,) outgoing weights.
    """

    W: np.ndarray
    v: np.ndarray

    @property
    def width(self) -> int:
        return self.W.shape[0]

    def subset(self, neurons) -> "Params":
        """The sub-network made of the given neuron indices (or boolean mask)."""
        return Params(self.W[neurons].copy(), self.v[neurons].copy())


def check_whole(name: str, value, minimum: int = 1, maximum: int | None = None) -> int:
    """Return `value` as an int, or raise ValueError saying what was wrong unless it is a whole number
    (an int, or a float without fractional part) between `minimum` and `maximum` (no maximum: None)."""
    bounds = f"≥ {minimum}" if maximum is None else f"between {minimum} and {maximum}"
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value).is_integer()
            or value < minimum or (maximum is not None and value > maximum)):
        raise ValueError(f"{name} must be a whole number {bounds}, got {value!r}.")
    return int(value)


def check_width(width) -> int:
    """Return `width` as an int, or raise ValueError if it is not a whole number of neurons ≥ 1."""
    return check_whole("width (number of neurons)", width)


def check_seed(seed) -> int:
    """Return `seed` as an int, or raise ValueError if it is not a whole number ≥ 0 (numpy's seeds)."""
    return check_whole("seed", seed, minimum=0)


def check_k(k, width: int) -> int:
    """Return k as an int, or raise ValueError unless 1 ≤ k ≤ width (neurons to keep or rank)."""
    return check_whole("k", k, 1, width)


def check_positive(name: str, value) -> float:
    """Return `value` as a float, or raise ValueError if it is not a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}.")
    return float(value)


def init_params(input_dim: int, width: int, scale: float, seed: int = 0, balanced: bool = False) -> Params:
    """Random initialisation with scale s: w_α ~ N(0, s²/D · I), v_α ~ N(0, s²/d).

    With `balanced=True`, |v_α| is set to ‖w_α‖ (keeping the sign of the draw), so that the
    conserved quantity ‖w_α‖² − v_α² is zero for every neuron.
    """
    width = check_width(width)
    scale = check_positive("scale", scale)
    rng = np.random.default_rng(check_seed(seed))
    W = rng.normal(0.0, scale / np.sqrt(input_dim), size=(width, input_dim))
    v = rng.normal(0.0, scale / np.sqrt(width), size=width)
    if balanced:
        v = np.where(v >= 0, 1.0, -1.0) * np.linalg.norm(W, axis=1)
    return Params(W, v)


def forward(params: Params, X: np.ndarray) -> np.ndarray:
    """Network output f(x_i) for each row of X (N, D); returns (N,)."""
    return np.maximum(X @ params.W.T, 0.0) @ params.v


def loss(params: Params, X: np.ndarray, y: np.ndarray) -> float:
    """Mean squared error with the course's 1/2 factor: (1/2N) Σ_i (y_i − f(x_i))²."""
    return output_loss(forward(params, X), y)


def accuracy(params: Params, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of samples whose output has the sign of the ±1 label."""
    return output_accuracy(forward(params, X), y)


def output_loss(outputs: np.ndarray, y: np.ndarray) -> float:
    """`loss` of network outputs f(x_i) (N,) already computed."""
    return 0.5 * float(np.mean((y - outputs) ** 2))


def output_accuracy(outputs: np.ndarray, y: np.ndarray) -> float:
    """`accuracy` of network outputs f(x_i) (N,) already computed."""
    return float(np.mean(np.sign(outputs) == y))


class TwoLayerReLU(nn.Module):
    """The same network as a textbook PyTorch module: Linear(D→d) → ReLU → Linear(d→1), no biases."""

    def __init__(self, params: Params, dtype=torch.float64, device="cpu"):
        super().__init__()
        width, input_dim = params.W.shape
        self.hidden = nn.Linear(input_dim, width, bias=False, dtype=dtype, device=device)
        self.output = nn.Linear(width, 1, bias=False, dtype=dtype, device=device)
        with torch.no_grad():
            self.hidden.weight.copy_(torch.as_tensor(params.W))
            self.output.weight.copy_(torch.as_tensor(params.v)[None, :])

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.output(torch.relu(self.hidden(X))).squeeze(-1)

    def params(self) -> Params:
        """The current weights as NumPy arrays."""
        return Params(self.hidden.weight.detach().cpu().numpy().copy(),
                      self.output.weight.detach().cpu().numpy()[0].copy())


# --- Gradients and plain gradient descent, by autograd (the references of the exercises) ----------

def loss_gradient(params: Params, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(∂L/∂W (d, D), ∂L/∂v (d,)) computed by PyTorch autograd on the textbook module, in float64.

    The course derives ∂L/∂w_α = −v_α u_α and ∂L/∂v_α = −w_α·u_α; this is the independent check.
    """
    model = TwoLayerReLU(params)
    X_t, y_t = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    (0.5 * torch.mean((y_t - model(X_t)) ** 2)).backward()
    return model.hidden.weight.grad.numpy().copy(), model.output.weight.grad.numpy()[0].copy()


def gradient_descent_step(params: Params, X: np.ndarray, y: np.ndarray, lr: float) -> Params:
    """One full-batch step of `torch.optim.SGD` (size lr, gradient by autograd) on the textbook module."""
    model = TwoLayerReLU(params)
    optimiser = torch.optim.SGD(model.parameters(), lr=lr)
    X_t, y_t = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    (0.5 * torch.mean((y_t - model(X_t)) ** 2)).backward()
    optimiser.step()
    return model.params()


def gradient_descent(params: Params, X: np.ndarray, y: np.ndarray, lr: float, steps: int):
    """`steps` full-batch gradient-descent steps from `params`.

    Returns (final Params, losses (steps + 1,)): losses[t] is L before step t + 1, losses[-1] after the last.
    """
    losses = [loss(params, X, y)]
    for _ in range(int(steps)):
        params = gradient_descent_step(params, X, y, lr)
        losses.append(loss(params, X, y))
    return params, np.array(losses)
