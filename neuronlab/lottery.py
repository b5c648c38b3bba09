"""Lottery tickets at the level of neurons: which initial conditions win the race, and what retraining
the winners shows.

Frankle & Carbin (2019) prune a trained network, reset the surviving weights to their initial values
and retrain: this "winning ticket" trains as well as the full network, a fresh random initialisation
of the same sub-network does not. Here a ticket is a set of k hidden neurons, and we compare four
k-neuron starting points (`VARIANTS`):

- "winning ticket": the top-k neurons by final norm product a_α = |v_α| ‖w_α‖, with their initial weights;
- "spread ticket": the top-k by final a_α taking at most one neuron per final cluster and half of
  them of each output sign, with their initial weights (the winners of k different races);
- "random init": a fresh random initialisation of k neurons at the same scale s;
- "random subset": k neurons drawn at random, with their original initial weights.

The random variants are drawn `draws` times. Shapes: d = width, k = ticket size, N training samples,
D inputs, T steps, K ticket sizes, V = 4 variants, R draws, S runs (seeds). Params: W (d, D), v (d,).
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from .model import Params, check_k, check_seed, check_whole, init_params
from .observables import rank_correlation, top_k_overlap
from .theory import growing_mode
from .training import half_loss_step, train, train_many

VARIANTS = ("winning ticket", "spread ticket", "random init", "random subset")
#: the variants that are drawn at random, `draws` times each
RANDOM_VARIANTS = ("random init", "random subset")
#: ticket sizes k computed by `ticket_run` (and offered by the notebook's k slider)
TICKET_SIZES = (5, 10, 20, 50)
#: steps recorded by `ticket_run` for the full network: dense early, where the race is decided
RACE_STEPS = (0, 1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 400, 600, 1000, 2000)
#: predictors of the final a_α read at step t (at t = 0: from the initial conditions), see `predictor_score`
PREDICTORS = ("alignment cos δ(t)", "norm product a(t)", "growing mode c₊²(t)")
#: single initial quantities, see `initial_conditions`
INITIAL_CONDITIONS = ("‖w(0)‖", "|v(0)|", "cos δ(0)", "‖u(0)‖", "a(0)", "growing mode c₊²(0)")


def top_k_mask(scores: np.ndarray, k: int) -> np.ndarray:
    """True for the k neurons with the largest `scores` (d,), ties broken by index; bool (d,)."""
    scores = np.asarray(scores)
    mask = np.zeros(scores.shape[0], dtype=bool)
    mask[np.argsort(-scores, kind="stable")[:check_k(k, scores.shape[0])]] = True
    return mask


def winning_ticket(init: Params, final: Params, k: int) -> Params:
    """The k neurons with the largest final a_α, reset to their initial weights (in neuron order).

    init, final: the same width-d network before and after training. Returns Params W (k, D), v (k,).
    """
    final_a = np.abs(final.v) * np.linalg.norm(final.W, axis=1)
    return init.subset(top_k_mask(final_a, k))


def spread_ticket(init: Params, final: Params, labels: np.ndarray, k: int) -> Params:
    """The top-k neurons by final a_α with at most one neuron per cluster (`labels` (d,), the final
    clusters) and ⌈k/2⌉ of one output sign, ⌊k/2⌋ of the other (the sign of the final v_α), reset to
    their initial weights (in neuron order). Where there are too few clusters of a sign, the quota is
    filled with the next winners of that sign; W (k, D), v (k,)."""
    final_a = np.abs(final.v) * np.linalg.norm(final.W, axis=1)
    k = check_k(k, final.width)
    order = np.argsort(-final_a, kind="stable")
    signs = np.where(final.v > 0, 1, -1)
    quota = {1: (k + 1) // 2, -1: k // 2}
    if (signs == 1).sum() < quota[1] or (signs == -1).sum() < quota[-1]:   # too few of one sign: any sign
        quota = {1: k, -1: k}
    chosen, seen = [], set()
    for one_per_cluster in (True, False):
        for neuron in order:
            if len(chosen) == k:
                break
            if neuron in chosen or quota[signs[neuron]] == 0 or (one_per_cluster and labels[neuron] in seen):
                continue
            chosen.append(neuron)
            seen.add(labels[neuron])
            quota[signs[neuron]] -= 1
    return init.subset(np.sort(chosen))


def random_subset(init: Params, k: int, seed: int = 0) -> Params:
    """k neurons drawn uniformly at random (no repeats), with their initial weights; W (k, D), v (k,)."""
    keep = np.random.default_rng(check_seed(seed)).choice(init.width, size=check_k(k, init.width), replace=False)
    return init.subset(np.sort(keep))


def ticket_inits(history, k: int, seed: int = 0, draw: int = 0) -> dict[str, Params]:
    """The four k-neuron starting points of `VARIANTS` for a trained `history` (a training.History);
    `draw` numbers the random draws (the tickets do not depend on it).

    The fresh initialisation is the first k neurons of a new draw of the full-width network (same
    scale s, width d and balance), so its neurons come from the same distribution as the originals
    (v ~ N(0, s²/d)); only the luck of the draw differs.
    """
    k = check_k(k, history.init.width)
    config = history.config
    draw_seed = 1_000 * seed + 100 * draw + k
    fresh = init_params(history.init.W.shape[1], history.init.width, config["scale"], seed=10_000 + draw_seed,
                        balanced=config.get("balanced", False)).subset(np.arange(k))
    return {"winning ticket": winning_ticket(history.init, history.final, k),
            "spread ticket": spread_ticket(history.init, history.final, history.clusters[-1], k),
            "random init": fresh,
            "random subset": random_subset(history.init, k, seed=20_000 + draw_seed)}


def ticket_composition(history, k: int) -> dict[str, int]:
    """What the final top-k neurons by a_α have in common: "clusters", the number of distinct final
    clusters among them (k if each is alone in its cluster), and "positive", how many have v_α > 0."""
    top = np.argsort(-history.norm_product[-1], kind="stable")[:check_k(k, history.init.width)]
    return {"clusters": len(np.unique(history.clusters[-1][top])), "positive": int(np.sum(history.v[-1][top] > 0))}


@dataclass(frozen=True)
class TicketRun:
    """A trained full network and the retraining of its tickets.

    history: the full network's training.History. ks (K,) ticket sizes; variants: the V names; draws R.
    loss (K, V, R, T+1) training loss of each retrained ticket; train_accuracy, test_accuracy (K, V, R);
    misfit (K, V, R) training images left with the wrong sign (an output of exactly 0 counts as wrong).
    The variants that are not random are trained once and repeated over the R draws.
    """

    history: object
    ks: np.ndarray
    variants: tuple
    loss: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    misfit: np.ndarray

    @property
    def draws(self) -> int:
        return self.loss.shape[2]

    def k_index(self, k: int) -> int:
        """Index in `ks` of the largest ticket size ≤ k (0 if all are larger)."""
        return max(int(np.searchsorted(self.ks, k, side="right")) - 1, 0)


def ticket_run(task, scale: float = 1e-3, width: int = 300, lr: float = 0.5, steps: int = 3000,
               seed: int = 0, ks=TICKET_SIZES, draws: int = 1, dtype=torch.float64, history=None) -> TicketRun:
    """Train the full network, then retrain the `VARIANTS` of a k-neuron ticket for each k in ks, the
    random ones `draws` times.

    The tickets are retrained with the same learning rate, number of steps and precision `dtype`; ks
    larger than the width are clipped to it. history: the full network's run with these settings, if
    already trained (see `full_run`). Raises TrainingDiverged (from either training) or ValueError.
    """
    draws = check_whole("draws", draws)
    if history is None:
        history = full_run(task, scale, width, lr, steps, seed, dtype)
    ks = np.unique(np.minimum(np.asarray(ks, dtype=int), history.init.width))
    inits, slots = [], []            # slots: (k index, variant index, draws it stands for)
    for i, k in enumerate(ks):
        for draw in range(draws):
            for v, (name, params) in enumerate(ticket_inits(history, k, seed, draw).items()):
                if name in RANDOM_VARIANTS:
                    inits.append(params), slots.append((i, v, [draw]))
                elif draw == 0:
                    inits.append(params), slots.append((i, v, list(range(draws))))
    losses, finals = train_many(task, inits, lr, steps, dtype=dtype)
    shape = (len(ks), len(VARIANTS), draws)
    loss, train_acc, test_acc, misfit = (np.zeros(shape + (steps + 1,)), np.zeros(shape), np.zeros(shape),
                                         np.zeros(shape, dtype=int))
    for (i, v, which), curve, params in zip(slots, losses, finals):
        wrong = _wrong_sign(params, task.X_train, task.y_train)
        loss[i, v, which] = curve
        train_acc[i, v, which] = 1 - wrong.mean()
        test_acc[i, v, which] = 1 - _wrong_sign(params, task.X_test, task.y_test).mean()
        misfit[i, v, which] = wrong.sum()
    return TicketRun(history, ks, VARIANTS, loss, train_acc, test_acc, misfit)


def _wrong_sign(params: Params, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """bool (N,): the network's output does not have the sign of the label (an output of 0 is wrong)."""
    return np.sign(np.maximum(X @ params.W.T, 0) @ params.v) != y


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
                      seed: int = 0, dtype=torch.float64, ks=TICKET_SIZES, draws: int = 1) -> TicketRun:
    """`ticket_run` remembering the last few runs (however the arguments are passed), so that the
    notebook's cells and panel share them, and a slider moved back is instant."""
    return _ticket_run_memo(task, float(scale), int(width), float(lr), int(steps), int(seed), dtype,
                            tuple(int(k) for k in np.atleast_1d(ks)), int(draws))


@lru_cache(maxsize=8)
def _ticket_run_memo(task, scale, width, lr, steps, seed, dtype, ks, draws):
    return ticket_run(task, scale=scale, width=width, lr=lr, steps=steps, seed=seed, dtype=dtype, ks=ks,
                      draws=draws, history=full_run(task, scale, width, lr, steps, seed, dtype))


def ticket_panel_run(task, k: int = 10, **settings) -> TicketRun:
    """The notebook panel's compute: the three tickets of one size k (`ticket_run_cached` with ks=(k,)).
    The full network is trained once for all k, so moving the k slider only retrains k-neuron networks."""
    return ticket_run_cached(task, ks=(k,), **settings)


def cache_clear():
    """Forget the remembered runs (benchmarks time cold runs)."""
    _full_run_memo.cache_clear()
    _ticket_run_memo.cache_clear()


def summarise_runs(runs: list[TicketRun]) -> dict[str, np.ndarray]:
    """The numbers of the ticket experiment over runs (one per seed, same ks and draws), S = len(runs).

    "final_loss" (S, K, V, R) training loss at the last step and "loss_geomean" (K, V) its geometric
    mean over seeds and draws; "misfit" (S, K, V, R) training images with the wrong sign and
    "misfit_mean" (K, V) its mean; "test_mean", "test_std" (K, V) held-out accuracy over seeds and draws;
    "half_step" (S, K, V, R) step at which the loss halved (NaN: never); "full_half_step",
    "full_final_loss", "full_test_accuracy" (S,) the same for the full networks.
    """
    final_loss = np.array([r.loss[..., -1] for r in runs])
    misfit = np.array([r.misfit for r in runs])
    test = np.array([r.test_accuracy for r in runs])
    return dict(final_loss=final_loss, loss_geomean=np.exp(np.log(final_loss).mean(axis=(0, 3))),
                misfit=misfit, misfit_mean=misfit.mean(axis=(0, 3)),
                test_mean=test.mean(axis=(0, 3)), test_std=test.std(axis=(0, 3)),
                half_step=np.array([half_loss_step(r.loss) for r in runs]),
                full_half_step=np.array([half_loss_step(r.history.loss) for r in runs]),
                full_final_loss=np.array([r.history.loss[-1] for r in runs]),
                full_test_accuracy=np.array([r.history.test_accuracy[-1] for r in runs]))


def predictor_score(history, name: str, step: int) -> np.ndarray:
    """A guess of the final a_α from the record at `step` (last recorded ≤ step); (d,).

    "alignment cos δ(t)": cos δ_α(t); "norm product a(t)": the race so far (at t = 0, a_α(0));
    "growing mode c₊²(t)": the closed form (‖w_α‖ cos δ_α + |v_α|)²/4 of `theory.growing_mode`, the
    norm product the neuron's growing mode would reach if its target stayed as it is at t.
    """
    index = history.index(step)
    if name == PREDICTORS[0]:
        return history.cos_delta[index]
    if name == PREDICTORS[1]:
        return history.norm_product[index]
    if name == PREDICTORS[2]:
        return growing_mode(history.w_norm[index], history.v[index], history.cos_delta[index])
    raise ValueError(f"unknown predictor {name!r}; choose one of {PREDICTORS}.")


def initial_conditions(history) -> dict[str, np.ndarray]:
    """Each neuron's initial conditions (d,), by the names of `INITIAL_CONDITIONS`: its sizes ‖w_α(0)‖,
    |v_α(0)|, its alignment cos δ_α(0), the size of its gated data vector ‖u_α(0)‖, the norm product
    a_α(0) and the growing mode c₊²(0) that combines them (see `predictor_score`)."""
    w, v, cos_delta = history.w_norm[0], history.v[0], history.cos_delta[0]
    values = (w, np.abs(v), cos_delta, history.u_norm[0], history.norm_product[0], growing_mode(w, v, cos_delta))
    return dict(zip(INITIAL_CONDITIONS, values))


def initial_condition_scores(history, k: int = 50) -> dict[str, tuple[float, float]]:
    """How well each initial condition alone predicts the final a_α: {name: (Spearman ρ over all
    neurons, overlap of its top k with the final top k)}."""
    final = history.norm_product[-1]
    k = check_k(k, final.size)
    return {name: (_spearman(score, final), top_k_overlap(score, final, k))
            for name, score in initial_conditions(history).items()}


def race_prediction(history, k: int, steps=None, predictors=PREDICTORS) -> dict[str, tuple]:
    """How well each predictor at each step picks the final top-k by a_α.

    Returns {name: (overlap (S,), spearman (S,))}: the fraction of the final top-k among the top-k by
    the predictor (chance: k/d), and the Spearman rank correlation with the final a_α over all neurons.
    steps: default the recorded steps before the last one.
    """
    steps = history.steps[:-1] if steps is None else np.asarray(steps)
    final = history.norm_product[-1]
    k = check_k(k, final.size)
    result = {}
    for name in predictors:
        scores = [predictor_score(history, name, step) for step in steps]
        result[name] = (np.array([top_k_overlap(s, final, k) for s in scores]),
                        np.array([_spearman(s, final) for s in scores]))
    return result



def race_predictions(histories, k: int) -> dict:
    """`race_prediction` for one run or a list over seeds, at every recorded step but the last, stacked
    for plotting: {"steps" (S,), "k", "width", "overlap" and "spearman": {predictor: (runs, S)},
    "loss_half_steps": each run's `History.loss_half_step`}."""
    histories = list(histories) if isinstance(histories, (list, tuple)) else [histories]
    steps = histories[0].steps[:-1]
    runs = [race_prediction(history, k, steps) for history in histories]
    return {"steps": steps, "k": int(k), "width": histories[0].init.width,
            "overlap": {name: np.array([run[name][0] for run in runs]) for name in PREDICTORS},
            "spearman": {name: np.array([run[name][1] for run in runs]) for name in PREDICTORS},
            "loss_half_steps": [history.loss_half_step for history in histories]}

def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    return float("nan") if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0 else rank_correlation(a, b)
