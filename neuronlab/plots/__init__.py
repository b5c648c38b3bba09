"""The course's figures, one module per lesson. Every `plot_*` function takes results (a `History`,
a report, a sweep …) and an optional `ax`, draws, and returns the matplotlib Figure; the analyses
that make those results live in the module of their idea (`observables`, `clusters`, `lottery`,
`compression`, `theory`). Import the functions from here: `from neuronlab import plots`.

  style        palettes, `axes_or_new`, colour by final size, the seed band
  overview     lesson 00 and the Figure-1 analogue (loss, norm products, cosine matrices, race, clusters)
  alignment    lesson 01     unlocking    lesson 02     racing       lesson 03
  lottery      lesson 04     compression  lesson 05
"""
from .style import (  # noqa: F401
    COLUMN_WIDTH, OKABE_ITO, SIGN_STYLE, MAGNITUDE_CMAP, axes_or_new, band, column_size, final_norm_colours,
    subplots,
)
from .overview import (  # noqa: F401
    plot_loss, plot_norm_products, plot_cosine_similarity, plot_race, plot_cluster_count, plot_figure1,
    spread_steps, plot_image_grid, plot_training_overview, plot_run_so_far,
)
from .alignment import (  # noqa: F401
    plot_toy_alignment, plot_toy_snapshots, plot_toy_angles, plot_toy_panel, plot_cosine_snapshots,
    plot_similarity_matrix, plot_scale_sweep, plot_scale_regimes, plot_alignment_panel,
)
from .unlocking import (  # noqa: F401
    plot_patterns_and_targets, plot_angles_to_targets, plot_target_track, plot_flip_rates, plot_toy_unlocking,
    plot_unlocking_panel,
)
from .racing import (  # noqa: F401
    plot_frozen_neuron, plot_race_with_rank, plot_race_steps, plot_growth_rates, plot_conservation_drift,
    plot_rank_correlation, plot_balance, plot_race_at_step,
)
from .lottery import (  # noqa: F401
    TICKET_STYLE, PREDICTOR_STYLE, plot_ticket_losses, plot_ticket_sizes, plot_ticket_comparison,
    plot_race_prediction, plot_final_norm_histogram, plot_initial_conditions, plot_lottery_panel,
)
from .compression import (  # noqa: F401
    PRUNE_STYLE, plot_merge_error, plot_pruning, SWEEP_STYLE, plot_compression_sweep, plot_compression_panel,
    BUDGET_STYLE, plot_compression_budget, TIMELINE_STYLE, plot_principle_timeline, plot_protocol_synthesis,
)
