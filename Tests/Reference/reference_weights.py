"""Shared by the reference scripts: random models whose every parameter and statistic is off its initial value."""

import torch


def move_off_initial_values(model, logit_scale):
    """Norms start at 1 and 0, biases at 0 and batch norms' statistics at 0 and 1 (CLIP also zeroes each
    bottleneck's last gain): move every one of them, so that a mix-up of any two shows in the outputs."""
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if parameter.dim() <= 1 or "ln" in name or "LayerNorm" in name:
                parameter.add_(0.1 * torch.randn_like(parameter))
        for name, buffer in model.named_buffers():
            if name.endswith("running_mean"):
                buffer.add_(0.1 * torch.randn_like(buffer))
            elif name.endswith("running_var"):
                buffer.mul_(1 + 0.2 * torch.rand_like(buffer))
        model.logit_scale.fill_(logit_scale)
