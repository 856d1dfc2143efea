"""What the d-step and g-step exercise tests share: a small float64 GAN, parameter snapshots, replayed noise."""

import numpy as np

import minigan
from minigan import optim
from minigan.gan import models
from minigan.gan import trainer as gan

LR = 0.1


def small_gan(loss: str = "nonsaturating", n_classes: int = 0, gp_weight: float = 0.0) -> gan.GAN:
    """An MLP pair on 2-D points (z_dim 3, width 6) in float64, both players trained by plain SGD."""
    G, D = models.mlp((2,), z_dim=3, hidden=6, n_classes=n_classes)
    G, D = G.double(), D.double()
    return gan.GAN(G, D, optim.SGD(G.parameters(), lr=LR), optim.SGD(D.parameters(), lr=LR), loss=loss,
                   gp_weight=gp_weight, n_classes=n_classes)


def snapshot(module: minigan.nn.Module) -> list[np.ndarray]:
    return [p.numpy().copy() for p in module.parameters()]


def put_stale_gradients(module: minigan.nn.Module) -> None:
    """Gradients left over from an earlier step: a step that forgets zero_grad() adds them in."""
    for p in module.parameters():
        p.grad = minigan.tensor(np.ones_like(p.data))


class replayed_noise:
    """``with replayed_noise():`` draws from the run's generator, then rewinds it, so the step draws the same."""

    def __enter__(self) -> None:
        self.state = minigan.backend.generator().bit_generator.state

    def __exit__(self, *exc: object) -> None:
        minigan.backend.generator().bit_generator.state = self.state


def sigma(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))
