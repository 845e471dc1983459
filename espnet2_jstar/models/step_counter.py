"""Persistent training-step counter for the transducer losses' warm-up schedules.

The pruned loss ramps its simple/pruned scales over ``warmup_steps`` (``loss.set_step``).
The step comes from a ``num_updates`` buffer on the model; it is *persistent* so that it is
saved in ESPnet's ``checkpoint.pth`` / ``*epoch.pth`` and a resumed run (``--resume true``)
continues the warm-up instead of restarting it.

Model files written before the counter was persistent lack the key; loading them (strict
loading in ``tasks.loading``, ESPnet's resume with ``strict=True``) keeps the model's current
counter and logs a warning instead of failing. ESPnet's n-best averaging sums integer
buffers (like BatchNorm's ``num_batches_tracked``); the counter only matters in training, and
``mt_init`` copies ``slow_encoder.*``/``st_head.*`` only, so JSTAR starts its own warm-up.
"""

from __future__ import annotations

import logging

import torch

NAME = "num_updates"


def register_step_counter(module: torch.nn.Module) -> None:
    """Add a persistent ``num_updates`` (int64 scalar) buffer, tolerant of old model files."""
    module.register_buffer(NAME, torch.zeros((), dtype=torch.long), persistent=True)
    module.register_load_state_dict_pre_hook(_fill_missing_counter)


def _fill_missing_counter(module, state_dict, prefix, local_metadata, strict, missing_keys,
                          unexpected_keys, error_msgs) -> None:
    key = prefix + NAME
    if key not in state_dict:
        logging.warning(
            f"{key} not in the loaded state dict (model file from before the counter was "
            f"saved): keeping the current value {int(getattr(module, NAME))}; the loss "
            "warm-up restarts from there"
        )
        state_dict[key] = getattr(module, NAME).detach().clone()
