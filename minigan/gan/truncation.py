"""Jacobian truncation: sampling a trained G without the points it draws *between* the modes.

A generator fed connected noise, z ~ N(0, I), must cross the gaps between the modes of a
multimodal p_data somewhere. Where it crosses, G(z) changes fast with z, and the samples it
draws there lie off every mode: the "bridges" between the blobs of the 2-D toys. Tanielian
et al. (2020, "Learning disconnected manifolds: a no GAN's land", ICML) prove that such a G
cannot avoid them (its precision is bounded by the size of those crossings) and show how to
drop them after training, by the size of the Jacobian:

    draw n / keep noise vectors, keep the n whose ||dG(z)/dz||_F is smallest.

Inside a mode G squeezes a whole region of z into a small blob (a small Jacobian); on a
bridge it stretches a thin strip of z across the gap (a large one). The truncation changes
no weight and needs no discriminator: it is a way of *sampling* the trained G, and the
evaluation of a run reports it (asked for with a fraction ``keep``) beside the plain samples,
never instead.

The Jacobian comes from minigan's own autograd. G maps each sample on its own (in eval
mode BatchNorm uses fixed statistics), so the gradient of sum_i G(z_i)_j with respect to the
batch z holds row j of every sample's Jacobian: one backward pass per output coordinate
(2 for the toys).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigan import backend
from minigan.autograd import Tensor, grad
from minigan.module import Module, evaluating

__all__ = ["jacobian_norms", "truncate", "n_to_draw", "MAX_OUTPUTS"]

MAX_OUTPUTS = 64  # one backward pass per output coordinate: meant for low-dimensional data such as the toys


def jacobian_norms(G: Module, z: Tensor, y: Any = None) -> np.ndarray:
    """||dG(z_i)/dz_i||_F for every row z_i of ``z`` (n, z_dim), as a host array (n,).

    ``y`` (labels) is passed on for a conditional G. G runs in eval mode and is put back as it was.
    """
    n = z.shape[0]
    zz = Tensor(z.data, requires_grad=True)
    with evaluating(G):
        x = G(zz) if y is None else G(zz, y)
    x = x.reshape(n, -1)
    if x.shape[1] > MAX_OUTPUTS:
        raise ValueError(f"Jacobian truncation takes one backward pass per output coordinate and G has "
                         f"{x.shape[1]}: it is meant for low-dimensional data such as the 2-D toys.")
    squares = 0.0
    for j in range(x.shape[1]):
        (row,) = grad(x[:, j].sum(), zz)  # d(sum_i x_ij)/dz_i = row j of J(z_i), for every i at once
        squares = squares + backend.to_numpy((row.data ** 2).sum(axis=1))
    return np.sqrt(squares)


def truncate(G: Module, z: Tensor, n: int, y: Any = None) -> np.ndarray:
    """Indices (sorted) of the ``n`` rows of ``z`` with the smallest Jacobian norms."""
    if not 0 < n <= z.shape[0]:
        raise ValueError(f"cannot keep {n} of {z.shape[0]} noise vectors.")
    norms = jacobian_norms(G, z, y)
    return np.sort(np.argsort(norms, kind="stable")[:n])


def n_to_draw(n: int, keep: float) -> int:
    """How many z to draw so that keeping the fraction ``keep`` leaves ``n``."""
    if not 0 < keep <= 1:
        raise ValueError(f"keep must be a fraction in (0, 1], e.g. 0.9 to drop the 10% of z with the largest "
                         f"Jacobians; got {keep}.")
    return math.ceil(n / keep - 1e-9)
