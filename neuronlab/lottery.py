"""Lottery tickets at the level of neurons: which neurons win, and what retraining them shows.

Frankle & Carbin (2019) prune a trained network, reset the surviving weights to their initial values
and retrain: this "winning ticket" trains as well as the full network, a fresh random initialisation
of the same sub-network does not. Here a ticket is a set of k hidden neurons, ranked by their final
norm product a_α = |v_α| ‖w_α‖, and we compare three k-neuron starting points (`VARIANTS`):

- "winning ticket": the top-k neurons by final a_α, with their original initial weights;
- "random init": a fresh random initialisation of k neurons at the same scale s;
- "random subset": k neurons drawn at random, with their original initial weights.

Shapes: d = width, k = ticket size, N training samples, D inputs, T steps, m networks trained
together, K ticket sizes, V = 3 variants, S recorded steps. Params: W (d, D), v (d,).
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from .model import Params, init_params
from .observables import rank_correlation, top_k_overlap
from .training import train, train_many

VARIANTS = ("winning ticket", "random init", "random subset")
#: ticket sizes k computed by `ticket_run` (and offered by the notebook's k slider)
TICKET_SIZES = (5, 10, 20, 50)
#: steps recorded by `ticket_run` for the full network: dense early, where the race is decided
RACE_STEPS = (0, 1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 400, 600, 1000, 2000)
#: early-time predictors of the final top-k, see `predictor_score`
PREDICTORS = ("alignment cos δ(t)", "a(0)·cos δ(t)", "norm product a(t)")


def _check_k(k, width: int) -> int:
    if isinstance(k, bool) or not float(k).is_integer() or not 1 <= k <= width:
        raise ValueError(f"k must be a whole number between 1 and {width}, got {k!r}.")
    return int(k)


def top_k_mask(scores: np.ndarray, k: int) -> np.ndarray:
    """True for the k neurons with the largest `scores` (d,), ties broken by index; bool (d,)."""
    scores = np.asarray(scores)
    mask = np.zeros(scores.shape[0], dtype=bool)
    mask[np.argsort(-scores, kind="stable")[:_check_k(k, scores.shape[0])]] = True
    return mask


def winning_ticket(init: Params, final: Params, k: int) -> Params:
    """The k neurons with the largest final a_α, reset to their initial weights (in neuron order).

    init, final: the same width-d network before and after training. Returns Params W (k, D), v (k,).
    """
    final_a = np.abs(final.v) * np.linalg.norm(final.W, axis=1)
    return init.subset(top_k_mask(final_a, k))


def random_subset(init: Params, k: int, seed: int = 0) -> Params:
    """k neurons drawn uniformly at random (no repeats), with their initial weights; W (k, D), v (k,)."""
    keep = np.random.default_rng(seed).choice(init.width, size=_check_k(k, init.width), replace=False)
    return init.subset(np.sort(keep))


def ticket_inits(history, k: int, seed: int = 0) -> dict[str, Params]:
    """The three k-neuron starting points of `VARIANTS` for a trained `history` (a training.History).

    The fresh initialisation is the first k neurons of a new draw of the full-width network (same
    scale s, width d and balance), so its neurons come from the same distribution as the originals
    (v ~ N(0, s²/d)); only the luck of the draw differs.
    """
    k = _check_k(k, history.init.width)
    config = history.config
    fresh = init_params(history.init.W.shape[1], history.init.width, config["scale"],
                        seed=10_000 + 1_000 * seed + k, balanced=config.get("balanced", False)).subset(np.arange(k))
    return {"winning ticket": winning_ticket(history.init, history.final, k),
            "random init": fresh,
            "random subset": random_subset(history.init, k, seed=20_000 + 1_000 * seed + k)}


def half_loss_step(losses: np.ndarray) -> np.ndarray:
    """First step where each loss curve (..., T+1) falls below half its start; (...) floats, NaN if never."""
    below = losses < losses[..., :1] / 2
    return np.where(below.any(axis=-1), np.argmax(below, axis=-1), np.nan)


@dataclass(frozen=True)
class TicketRun:
    """A trained full network and the retraining of its tickets.

    history: the full network's training.History. ks (K,) ticket sizes; variants: the V names;
    loss (K, V, T+1) training loss of each retrained ticket; train_accuracy, test_accuracy (K, V).
    """

    history: object
    ks: np.ndarray
    variants: tuple
    loss: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray

    def k_index(self, k: int) -> int:
        """Index in `ks` of the largest ticket size ≤ k (0 if all are larger)."""
        return max(int(np.searchsorted(self.ks, k, side="right")) - 1, 0)


def ticket_run(task, scale: float = 1e-3, width: int = 300, lr: float = 0.5, steps: int = 3000,
               seed: int = 0, ks=TICKET_SIZES, dtype=torch.float64, history=None) -> TicketRun:
    """Train the full network, then retrain the three `VARIANTS` of a k-neuron ticket for each k in ks.

    The tickets are retrained with the same learning rate, number of steps and precision `dtype`; ks
    larger than the width are clipped to it. history: the full network's run with these settings, if
    already trained (see `full_run`). Raises TrainingDiverged (from either training) or ValueError.
    """
    if history is None:
        history = full_run(task, scale, width, lr, steps, seed, dtype)
    ks = np.unique(np.minimum(np.asarray(ks, dtype=int), history.init.width))
    inits = [ticket_inits(history, k, seed)[variant] for k in ks for variant in VARIANTS]
    losses, finals = train_many(task, inits, lr, steps, dtype=dtype)
    shape = (len(ks), len(VARIANTS))

    def accuracies(X, y):
        return np.array([np.mean(np.sign(np.maximum(X @ p.W.T, 0) @ p.v) == y) for p in finals]).reshape(shape)

    return TicketRun(history, ks, VARIANTS, losses.reshape(*shape, steps + 1),
                     accuracies(task.X_train, task.y_train), accuracies(task.X_test, task.y_test))


def full_run(task, scale: float = 1e-3, width: int = 300, lr: float = 0.5, steps: int = 3000, seed: int = 0,
             dtype=torch.float64):
    """The full network of the ticket experiment, recorded at `RACE_STEPS`; remembers the last few runs."""
    return _full_run_memo(task, float(scale), int(width), float(lr), int(steps), int(seed), dtype)


@lru_cache(maxsize=4)
def _full_run_memo(task, scale, width, lr, steps, seed, dtype):
    record = sorted({s for s in RACE_STEPS if s < steps} | {steps})
    return train(task, width=width, scale=scale, lr=lr, steps=steps, seed=seed, record_steps=record,
                 dtype=dtype, progress=None)


def ticket_run_cached(task, scale: float = 1e-3, width: int = 300, lr: float = 0.5, steps: int = 3000,
                      seed: int = 0, dtype=torch.float64, ks=TICKET_SIZES) -> TicketRun:
    """`ticket_run` remembering the last few runs (however the arguments are passed), so that the
    notebook's cells and panel share them, and a slider moved back is instant."""
    return _ticket_run_memo(task, float(scale), int(width), float(lr), int(steps), int(seed), dtype,
                            tuple(int(k) for k in np.atleast_1d(ks)))


@lru_cache(maxsize=8)
def _ticket_run_memo(task, scale, width, lr, steps, seed, dtype, ks):
    return ticket_run(task, scale=scale, width=width, lr=lr, steps=steps, seed=seed, dtype=dtype, ks=ks,
                      history=full_run(task, scale, width, lr, steps, seed, dtype))


def ticket_panel_run(task, k: int = 10, **settings) -> TicketRun:
    """The notebook panel's compute: the three tickets of one size k (`ticket_run_cached` with ks=(k,)).
    The full network is trained once for all k, so moving the k slider only retrains k-neuron networks."""
    return ticket_run_cached(task, ks=(k,), **settings)


def cache_clear():
    """Forget the remembered runs (benchmarks time cold runs)."""
    _full_run_memo.cache_clear()
    _ticket_run_memo.cache_clear()


def summarise_runs(runs: list[TicketRun]) -> dict[str, np.ndarray]:
    """The numbers of the ticket experiment over runs (one per seed, same ks), S = len(runs).

    "final_loss" (S, K, V) training loss at the last step and "loss_geomean" (K, V) its geometric mean;
    "misfit" (S, K, V) training images with the wrong sign; "test_mean", "test_std" (K, V) held-out
    accuracy; "half_step" (S, K, V) step at which the loss halved (NaN: never); "full_half_step",
    "full_final_loss", "full_test_accuracy" (S,) the same for the full networks.
    """
    final_loss = np.array([r.loss[..., -1] for r in runs])
    test = np.array([r.test_accuracy for r in runs])
    n_train = runs[0].history.n_samples
    return dict(final_loss=final_loss, loss_geomean=np.exp(np.log(final_loss).mean(axis=0)),
                misfit=np.rint((1 - np.array([r.train_accuracy for r in runs])) * n_train).astype(int),
                test_mean=test.mean(axis=0), test_std=test.std(axis=0),
                half_step=np.array([half_loss_step(r.loss) for r in runs]),
                full_half_step=np.array([half_loss_step(r.history.loss) for r in runs]),
                full_final_loss=np.array([r.history.loss[-1] for r in runs]),
                full_test_accuracy=np.array([r.history.test_accuracy[-1] for r in runs]))


def predictor_score(history, name: str, step: int) -> np.ndarray:
    """An early guess of the final a_α from the record at `step` (last recorded ≤ step); (d,).

    "alignment cos δ(t)": cos δ_α(t); "a(0)·cos δ(t)": the initial norm product times it;
    "norm product a(t)": the race so far (at t = 0 this is a_α(0)).
    """
    index = history.index(step)
    if name == PREDICTORS[0]:
        return history.cos_delta[index]
    if name == PREDICTORS[1]:
        return history.norm_product[0] * history.cos_delta[index]
    if name == PREDICTORS[2]:
        return history.norm_product[index]
    raise ValueError(f"unknown predictor {name!r}; choose one of {PREDICTORS}.")


def race_prediction(history, k: int, steps=None, predictors=PREDICTORS) -> dict[str, tuple]:
    """How well each predictor at each step picks the final top-k by a_α.

    Returns {name: (overlap (S,), spearman (S,))}: the fraction of the final top-k among the top-k by
    the predictor (chance: k/d), and the Spearman rank correlation with the final a_α over all neurons.
    steps: default the recorded steps before the last one.
    """
    steps = history.steps[:-1] if steps is None else np.asarray(steps)
    final = history.norm_product[-1]
    k = _check_k(k, final.size)
    result = {}
    for name in predictors:
        scores = [predictor_score(history, name, step) for step in steps]
        result[name] = (np.array([top_k_overlap(s, final, k) for s in scores]),
                        np.array([_spearman(s, final) for s in scores]))
    return result


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    return float("nan") if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0 else rank_correlation(a, b)
