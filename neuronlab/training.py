"""Full-batch gradient descent on the course network, with a recorder of per-neuron quantities.

Two implementations of the same updates  w_α ← w_α + η v_α u_α,  v_α ← v_α + η w_α·u_α:

- `method="textbook"`: a PyTorch module, autograd and `torch.optim.SGD` — the loop of any tutorial;
- `method="rowspace"` (default): every gradient of w_α lies in span{x_i}, so W(t) = W(0) + B(t) X with
  B of shape (d, N). With the Gram matrix K = X Xᵀ, a step costs O(N²d) instead of O(NDd), which is
  about an order of magnitude cheaper for N = 200 ≪ D = 3072, with the same results up to rounding.

Both return a `History`: the loss at every step, and at the recorded steps the quantities the lessons
plot (norm products, alignments, gating patterns, cosine similarities, clusters, test metrics).
`train_many` trains several small networks side by side with the row-space method (lottery tickets).
"""
import contextvars
import ctypes
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import torch
from tqdm.auto import tqdm

from . import observables
from .clusters import CLUSTER_THRESHOLD, find_clusters
from .data import Task, check_task
from .model import Params, TwoLayerReLU, accuracy, check_positive, check_whole, check_width, init_params, loss
from .symmetric import SymmetricStack

#: training stops when the loss exceeds this multiple of its initial value
DIVERGENCE_FACTOR = 1e3
#: record full weight snapshots only when the input dimension is at most this (toy data)
MAX_DIM_FOR_WEIGHTS = 64
#: torch threads for the row-space loop. Measured on 2 cores (protocol, float64 / float32): 2 threads
#: take 1.3 / 0.8 s and 1 thread 2.0 / 1.3 s when both cores are idle, but with one core busy (a browser,
#: another program) 2 threads take 16.7 / 7.5 s against 2.0 / 1.3 s, because its thousands of small
#: parallel products each wait for the descheduled thread. One thread is never far from the best, and
#: gives the same numbers on every machine load (the thread count changes float32 results' rounding).
ROWSPACE_THREADS = 1


def _glibc():
    """The C library's handle where it is glibc (Linux, Binder), else None."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


_LIBC = _glibc()


def half_loss_step(losses: np.ndarray) -> np.ndarray:
    """First step where each loss curve (..., T+1) falls below half its start; (...) floats, NaN if never."""
    below = losses < losses[..., :1] / 2
    return np.where(below.any(axis=-1), np.argmax(below, axis=-1), np.nan)


class TrainingDiverged(RuntimeError):
    """Gradient descent blew up (non-finite values or an exploding loss). step, loss, initial_loss, lr:
    where and how, when the trainer raised it (None otherwise)."""

    def __init__(self, message: str, *, step=None, loss=None, initial_loss=None, lr=None):
        super().__init__(message)
        self.step, self.loss, self.initial_loss, self.lr = step, loss, initial_loss, lr


@dataclass
class History:
    """What a training run recorded. R = number of recorded steps, d = width, T = steps.

    loss: (T+1,) training loss before each step and after the last one.
    steps: (R,) recorded step numbers.  Per-neuron arrays are (R, d); `gating` is packed bits
    (R, d, ceil(N/8)); `cos_sim` R symmetric (d, d) float32 matrices, kept by their upper triangles
    (a `SymmetricStack`: cos_sim[r] is the full matrix); `clusters` (R, d) labels at `cluster_threshold`.
    `weights` (R, d, D) is kept only for low-dimensional (toy) data, else None.
    """

    config: dict
    init: Params
    final: Params
    loss: np.ndarray
    steps: np.ndarray
    train_accuracy: np.ndarray
    test_loss: np.ndarray
    test_accuracy: np.ndarray
    norm_product: np.ndarray
    w_norm: np.ndarray
    v: np.ndarray
    cos_delta: np.ndarray
    u_norm: np.ndarray
    conserved: np.ndarray
    gating: np.ndarray
    cos_sim: SymmetricStack
    clusters: np.ndarray
    weights: np.ndarray | None = None
    seconds: float = 0.0
    n_samples: int = field(default=0)

    def index(self, step: int) -> int:
        """Index of the last recorded step ≤ `step`."""
        return max(int(np.searchsorted(self.steps, step, side="right")) - 1, 0)

    @property
    def loss_half_step(self) -> int | None:
        """First step at which the training loss is below half its initial value (None if never)."""
        half = half_loss_step(self.loss)
        return None if np.isnan(half) else int(half)

    def gating_at(self, index: int) -> np.ndarray:
        """Unpacked gating pattern at record `index`; bool (d, N)."""
        return np.unpackbits(self.gating[index], axis=1, count=self.n_samples).view(bool)


def default_record_steps(steps: int, n_log: int = 60) -> np.ndarray:
    """Steps to record: every step up to 10, a few early landmarks, then log-spaced up to `steps`."""
    early = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200]
    log_spaced = np.round(np.geomspace(1, steps, n_log)).astype(int)
    chosen = np.unique(np.concatenate([early, log_spaced, [steps]]))
    return chosen[chosen <= steps]


def _snapshot(params: Params, task: Task, keep_weights: bool) -> dict:
    """The recorded quantities, computed from full weights with the readable observables."""
    X, y, X_test, y_test = task.X_train, task.y_train, task.X_test, task.y_test
    return dict(
        train_accuracy=accuracy(params, X, y),
        test_loss=loss(params, X_test, y_test),
        test_accuracy=accuracy(params, X_test, y_test),
        norm_product=observables.norm_product(params),
        w_norm=np.linalg.norm(params.W, axis=1),
        v=params.v.copy(),
        cos_delta=observables.alignment(params, X, y),
        u_norm=np.linalg.norm(observables.gated_data_vector(params, X, y), axis=1),
        conserved=observables.conserved_quantity(params),
        gating=observables.gating_pattern(params, X),
        cos_sim=observables.cosine_similarity_matrix(params),
        weights=params.W.copy() if keep_weights else None,
    )


class _RowSpaceState:
    """m independent networks in row-space coordinates, W = W0 + B X, trained together exactly.

    n = total neurons of the m networks. All heavy products use the N×N Gram matrix K = X Xᵀ and the
    fixed projections X W0ᵀ. B is stored transposed, Bt = Bᵀ of shape (N, n), so that every per-step
    array is (N, n) and contiguous. `owner` (n, m) is one-hot: which network each neuron belongs to.
    With m = 1 this is `train`'s network; `train_many` uses m > 1 so that small networks share one
    matrix product per step.
    """

    def __init__(self, inits: list[Params], X, y, X_test, dtype, device):
        as_tensor = lambda array: torch.as_tensor(array, dtype=dtype, device=device)  # noqa: E731
        self.X, self.y = as_tensor(X), as_tensor(y)
        self.widths = [p.width for p in inits]
        # each network's W(0) (d_a, D), kept apart: in float64 they are the inits' own arrays, not a copy
        self.W0 = [as_tensor(p.W) for p in inits]
        self.v = as_tensor(np.concatenate([p.v for p in inits])).clone()  # (n,)
        network = torch.repeat_interleave(torch.arange(len(inits)), torch.tensor(self.widths))
        self.owner = torch.nn.functional.one_hot(network, len(inits)).to(dtype=dtype, device=device)  # (n, m)
        self.K = self.X @ self.X.T                              # (N, N)
        self.P0 = torch.cat([self.X @ W0.T for W0 in self.W0], dim=1)  # (N, n) pre-activations at t=0
        self.Bt = torch.zeros_like(self.P0)
        self.X_test = as_tensor(X_test)
        self.test_P0 = torch.cat([self.X_test @ W0.T for W0 in self.W0], dim=1)  # (M, n)
        self.test_K = self.X_test @ self.X.T                    # (M, N)

    @cached_property
    def G0(self):
        """W(0) W(0)ᵀ (d, d) of a single network, for its snapshots (computed at the first one)."""
        (W0,) = self.W0
        return W0 @ W0.T

    @property
    def B(self):
        """Row-space coefficients: W = W0 + B X; (n, N)."""
        return self.Bt.T

    def forward(self):
        """Activations relu(H) of the pre-activations H = X Wᵀ = X W0ᵀ + K Bᵀ (N, n), output weights per
        network V (n, m), residuals y − relu(H) V (N, m) and the sums of their squares (m,)."""
        activations = torch.addmm(self.P0, self.K, self.Bt).relu_()
        V = self.owner * self.v[:, None]
        residual = torch.addmm(self.y[:, None], activations, V, alpha=-1)
        return activations, V, residual, torch.sum(residual * residual, dim=0)

    def step(self, activations, V, residual, lr: float):
        """One gradient-descent step given the current forward pass (simultaneous update).

        w_α += η v_α u_α with u_α = (1/N) Σ_i r_i g_αi x_i, i.e. B[α, i] += (η/N) g_αi r_i v_α, where
        the gate g_αi = sign(relu(h_αi)) and r is the residual of α's network;
        v_α += η w_α·u_α with w_α·u_α = (1/N) Σ_i r_i relu(h_αi).
        """
        N = len(residual)
        N_w_dot_u = torch.sum((residual.T @ activations).T * self.owner, dim=1)   # (n,)
        self.Bt.addcmul_(torch.sign(activations), residual @ V.T, value=lr / N)
        self.v.add_(N_w_dot_u, alpha=lr / N)

    def weights(self):
        """The m networks' current weights (float64 arrays whatever the training precision): an iterator
        that computes them one network at a time, as it is consumed."""
        v, bounds = _numpy(self.v), np.cumsum([0] + self.widths)
        return (Params(_numpy(torch.addmm(W0, self.B[a:b], self.X)), v[a:b].copy())
                for W0, a, b in zip(self.W0, bounds[:-1], bounds[1:]))

    def snapshot(self, activations, residual, y_test, keep_weights: bool) -> dict:
        """The recorded quantities of a single network (m = 1), computed in the row space from the current
        forward pass (same values as `_snapshot`)."""
        residual = residual[:, 0]
        N = len(residual)
        BP0 = self.B @ self.P0                                  # (d, d) = B X W0ᵀ
        gram = self.G0 + BP0 + BP0.T + self.B @ self.K @ self.B.T   # W Wᵀ
        w_norm = torch.sqrt(torch.diagonal(gram))
        total_gram = gram + torch.outer(self.v, self.v)
        total_norm = torch.sqrt(torch.diagonal(total_gram))
        gated_residual = ((activations > 0) * residual[:, None]).T / N
        u_norm = torch.sqrt(torch.sum((gated_residual @ self.K) * gated_residual, dim=1))
        w_dot_u = torch.sum(gated_residual * activations.T, dim=1)
        denominator = w_norm * u_norm
        cos_delta = torch.where(denominator > 0, torch.sign(self.v) * w_dot_u / denominator, 0.0)
        test_H = torch.addmm(self.test_P0, self.test_K, self.Bt)
        test_output = _numpy(torch.relu(test_H) @ self.v)
        train_output = _numpy(self.y - residual)
        return dict(
            train_accuracy=float(np.mean(np.sign(train_output) == _numpy(self.y))),
            test_loss=0.5 * float(np.mean((y_test - test_output) ** 2)),
            test_accuracy=float(np.mean(np.sign(test_output) == y_test)),
            norm_product=_numpy(torch.abs(self.v) * w_norm),
            w_norm=_numpy(w_norm),
            v=_numpy(self.v).copy(),
            cos_delta=_numpy(cos_delta),
            u_norm=_numpy(u_norm),
            conserved=_numpy(w_norm**2 - self.v**2),
            gating=(activations.T > 0).cpu().numpy(),
            cos_sim=(total_gram / torch.outer(total_norm, total_norm)).to(torch.float32).cpu().numpy(),
            weights=next(self.weights()).W if keep_weights else None,
        )


def _numpy(tensor) -> np.ndarray:
    """A float tensor as a float64 numpy array, so that what comes out of a float32 run looks the same."""
    return tensor.detach().to(device="cpu", dtype=torch.float64).numpy()


def rounded(value: float, digits: int = 2) -> str:
    """A setting as the η slider shows it: `digits` significant digits in decimal notation, never an
    exponent (d3-format's ".2r"): 79.43 → "79", 100 → "100", 0.5 → "0.50", 0.0316 → "0.032"."""
    at_precision = float(f"{value:.{digits - 1}e}")  # rounded first: 9.96 → 10, one digit more before the point
    exponent = math.floor(math.log10(abs(at_precision))) if at_precision else 0
    return f"{at_precision:.{max(digits - 1 - exponent, 0)}f}"


def _check_finite(losses, initial_losses, step: int, lr: float):
    """Raise TrainingDiverged if a loss (a float, or one per network) is non-finite or has exploded."""
    if np.all(losses <= DIVERGENCE_FACTOR * initial_losses):  # False for NaN: cheap, it runs every step
        return
    losses, initial_losses = np.atleast_1d(losses), np.atleast_1d(initial_losses)
    worst = np.argmax(np.where(np.isfinite(losses), losses / initial_losses, np.inf))
    raise TrainingDiverged(
        f"Training diverged at step {step}: the loss reached {losses[worst]:.3g} (it started at "
        f"{initial_losses[worst]:.3g}): the learning rate η = {rounded(lr)} is too large for this network, try a smaller one.",
        step=step, loss=float(losses[worst]), initial_loss=float(initial_losses[worst]), lr=lr)


def _check_steps(steps) -> int:
    return check_whole("steps", steps)


def _check_init(init: Params, task: Task):
    check_width(init.width)
    if init.W.shape[1] != task.input_dim:
        raise ValueError(f"init has input dimension {init.W.shape[1]}, the task has {task.input_dim}.")


def _record_steps(record_steps, steps: int) -> np.ndarray:
    if record_steps is None:
        return default_record_steps(steps)
    chosen = np.unique(np.asarray(record_steps, dtype=int))
    if chosen.size == 0 or chosen[0] < 0 or chosen[-1] > steps:
        raise ValueError(f"record_steps must lie between 0 and steps={steps}, got {record_steps!r}.")
    return chosen


@dataclass(frozen=True)
class RunSoFar:
    """A run in progress, as a panel draws it while it trains (`watching`). t = steps done, T = all steps,
    r = steps recorded so far, d = width. loss: (t+1,) the training loss up to step t; steps: (r,) the
    recorded steps; norm_product: (r, d) every neuron's |v_α| ‖w_α‖ at them. The arrays are views into the
    run's own: draw them, do not keep them."""

    step: int
    total_steps: int
    loss: np.ndarray
    steps: np.ndarray
    norm_product: np.ndarray


#: the function `train` reports its run so far to, set by `watching` (None: nobody watches)
_WATCHER = contextvars.ContextVar("neuronlab_training_watcher", default=None)


@contextmanager
def watching(report):
    """Within the block, every `train` calls report(RunSoFar) at each step it records: how a panel shows
    the run while it trains. Whatever `report` takes is training time (a panel draws only now and then)."""
    token = _WATCHER.set(report)
    try:
        yield
    finally:
        _WATCHER.reset(token)


class _Records:
    """The snapshots of a run, written straight into preallocated (R, …) arrays as they come (a list of
    snapshots stacked at the end would hold every record twice). `gating` is kept as packed bits. If
    someone is `watching`, each new record is reported to them with the run so far."""

    def __init__(self, count: int, total_steps: int):
        self.count, self.filled, self.arrays = count, 0, {}
        self.total_steps, self.steps, self.report = total_steps, np.empty(count, dtype=int), _WATCHER.get()

    def add(self, step: int, snapshot: dict, losses: np.ndarray):
        """Store the snapshot of `step`; losses: (t+1,) the run's loss up to it."""
        self.steps[self.filled] = step
        self._store(snapshot)
        if self.report is not None:
            self.report(RunSoFar(step, self.total_steps, losses, self.steps[:self.filled],
                                 self.arrays["norm_product"][:self.filled]))

    def _store(self, snapshot: dict):
        snapshot = dict(snapshot, gating=np.packbits(snapshot["gating"], axis=1))
        if not self.arrays:
            self.arrays = {key: SymmetricStack(self.count, len(value)) if key == "cos_sim" else
                           np.empty((self.count, *np.shape(value)), np.asarray(value).dtype)
                           for key, value in snapshot.items() if value is not None}
        for key, array in self.arrays.items():
            array[self.filled] = snapshot[key]
        self.filled += 1

    def stacked(self, cluster_threshold: float) -> dict:
        """The arrays of a History: every recorded quantity (R, …), the clusters, the weights or None."""
        assert self.filled == self.count, (self.filled, self.count)
        clusters = np.array([find_clusters(cos_sim, cluster_threshold) for cos_sim in self.arrays["cos_sim"]])
        return {"weights": None, **self.arrays, "clusters": clusters}

def train(task: Task, width: int = 300, scale: float = 1e-3, lr: float = 0.5, steps: int = 3000,
          seed: int = 0, *, balanced: bool = False, init: Params | None = None, record_steps=None,
          method: str = "rowspace", dtype=torch.float64, device="cpu", progress: bool | None = None,
          cluster_threshold: float = CLUSTER_THRESHOLD, threads: int = ROWSPACE_THREADS) -> History:
    """Train the network on `task` by full-batch gradient descent and record its neurons.

    width d, scale s, seed: the random initialisation (ignored when `init` is given, e.g. to retrain
    a lottery ticket from its original weights). lr: learning rate η. steps: number of GD steps T.
    method: "rowspace" (fast, exact) or "textbook" (PyTorch autograd + SGD). progress: show a
    progress bar (None: only if the run takes more than 1 second). threads: CPU threads of the matrix
    products (default 1, see ROWSPACE_THREADS; 2 is faster on an otherwise idle two-core machine).
    Raises ValueError for invalid arguments and TrainingDiverged if the loss blows up.
    """
    task, lr, steps = check_task(task), check_positive("lr (learning rate)", lr), _check_steps(steps)
    threads = check_whole("threads", threads)
    if method not in ("rowspace", "textbook"):
        raise ValueError(f"method must be 'rowspace' or 'textbook', got {method!r}.")
    if init is None:
        init = init_params(task.input_dim, check_width(width), check_positive("scale", scale), seed, balanced)
    _check_init(init, task)
    recorded = set(_record_steps(record_steps, steps).tolist())
    run = _train_rowspace if method == "rowspace" else _train_textbook
    start = time.perf_counter()
    with progress_bar(f"training d={init.width}", steps, progress) as bar, _torch_threads(threads):
        losses, records, final = run(task, init, lr, steps, recorded, dtype, device, bar)
    seconds = time.perf_counter() - start
    config = dict(task=task.name, width=init.width, scale=scale, lr=lr, steps=steps, seed=seed,
                  balanced=balanced, method=method, dtype=str(dtype), device=str(device))
    return History(config=config, init=init, final=final, loss=losses, steps=np.array(sorted(recorded)),
                   seconds=seconds, n_samples=task.n_train, **records.stacked(cluster_threshold))


@contextmanager
def _torch_threads(count: int):
    """Run the block with `count` torch threads, then restore the previous setting. Memory freed on the
    heap is returned to the operating system before the block (what earlier cells left) and after it."""
    _return_freed_memory()
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
        _return_freed_memory()


def _return_freed_memory() -> None:
    """Give the heap memory freed so far back to the operating system. glibc keeps it for reuse, so
    without this a lesson kernel's resident memory only grows with every retraining (four float32 protocol
    runs: 349 MB resident without it, 295 MB with it; the peak stays). Does nothing where the C library is not glibc."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _train_rowspace(task, init, lr, steps, recorded, dtype, device, bar):
    losses, records, finals = _rowspace_loop(task, [init], lr, steps, recorded, dtype, device, bar)
    return losses[0], records, next(finals)


def _rowspace_loop(task, inits, lr, steps, recorded, dtype, device, bar):
    """Train the networks `inits` together; losses (m, T+1), records of network 0 at `recorded`, an
    iterator over the final Params."""
    state = _RowSpaceState(inits, task.X_train, task.y_train, task.X_test, dtype, device)
    losses, records = np.empty((len(inits), steps + 1)), _Records(len(recorded), steps)
    for step in range(steps + 1):
        activations, V, residual, squared_residual = state.forward()
        losses[:, step] = squared_residual.cpu().numpy() / (2 * len(residual))
        _check_finite(losses[:, step], losses[:, 0], step, lr)
        if step in recorded:
            records.add(step, state.snapshot(activations, residual, task.y_test,
                                             task.input_dim <= MAX_DIM_FOR_WEIGHTS), losses[0, :step + 1])
        if step < steps:
            state.step(activations, V, residual, lr)
            bar.update()
    return losses, records, state.weights()


def train_many(task: Task, inits: list[Params], lr: float, steps: int, dtype=torch.float64, device="cpu",
               progress: bool | None = None):
    """Train m independent networks on `task` at once, by full-batch gradient descent.

    Exactly `train` (row-space method) for each network, but all networks share one matrix product
    per step, which makes many small retrainings (lottery tickets) cheap. Nothing is recorded.
    Returns (losses (m, T+1): training loss before each step and after the last, finals: an iterator over
    the m final Params, computed one at a time as it is consumed, so that a large batch never holds all
    its final weights beside their initial ones; `list(finals)` keeps them all).
    progress: as for `train`. Raises ValueError for invalid arguments and TrainingDiverged if any
    network's loss blows up.
    """
    task, lr, steps = check_task(task), check_positive("lr (learning rate)", lr), _check_steps(steps)
    if not isinstance(inits, (list, tuple)) or not all(isinstance(params, Params) for params in inits):
        raise TypeError(f"inits must be a list of Params (e.g. from neuronlab.model.init_params), got {inits!r:.80}.")
    if len(inits) == 0:
        raise ValueError("train_many needs at least one network in inits.")
    for params in inits:
        _check_init(params, task)
    with progress_bar(f"training {len(inits)} networks", steps, progress) as bar, _torch_threads(ROWSPACE_THREADS):
        losses, _, finals = _rowspace_loop(task, inits, lr, steps, set(), dtype, device, bar)
    return losses, finals


def progress_bar(description: str, total: int, progress: bool | None = None):
    """The course's progress bar over `total` steps or runs: shown at once with progress=True, once the
    work has taken a second with None, never with False. Its text starts with "training" (saved notebooks
    drop such bars: `benchmarks/notebooks.py`)."""
    return tqdm(total=total, desc=description, delay=0 if progress else 1.0, disable=progress is False,
                leave=False, mininterval=0.5)


def _train_textbook(task, init, lr, steps, recorded, dtype, device, bar):
    model = TwoLayerReLU(init, dtype=dtype, device=device)
    optimiser = torch.optim.SGD(model.parameters(), lr=lr)
    X = torch.as_tensor(task.X_train, dtype=dtype, device=device)
    y = torch.as_tensor(task.y_train, dtype=dtype, device=device)
    losses, records = np.empty(steps + 1), _Records(len(recorded), steps)
    for step in range(steps + 1):
        optimiser.zero_grad()
        step_loss = 0.5 * torch.mean((y - model(X)) ** 2)
        losses[step] = step_loss.item()
        _check_finite(losses[step], losses[0], step, lr)
        if step in recorded:
            records.add(step, _snapshot(model.params(), task, task.input_dim <= MAX_DIM_FOR_WEIGHTS),
                        losses[:step + 1])
        if step < steps:
            step_loss.backward()
            optimiser.step()
            bar.update()
    return losses, records, model.params()
