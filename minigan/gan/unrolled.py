"""Unrolled GAN (Metz et al. 2017): G plays against where D will be k steps from now.

A G that collapses onto one mode wins against today's D, and loses as soon as D catches
up; then it hops to another mode, and the two chase each other around. If G's loss is
measured against D *after* k more D updates, hopping is no longer rewarded: the unrolled
D has already caught up with the mode G would hop to. So G spreads over all the modes.

``g_step`` here:

1. remembers D's weights, buffers and optimizer state;
2. updates D k times on real data and G's current fakes (the surrogate D_k);
3. takes G's loss against D_k and updates G;
4. puts D back exactly as it was: the real D moves only in ``d_step``.

Step 3's gradient has two parts. The *first-order* part treats D_k as fixed and
backpropagates through it into G (cheap, the default). The *second-order* part also
follows how D_k itself depends on G through the k updates, d theta_k / d G, which needs
the updates to be differentiable: they are recomputed with ``minigan.grad(...,
create_graph=True)`` and the gradient flows back through all k of them
(``second_order=True``; Metz et al.'s full method; k times the memory).
"""

from __future__ import annotations

from typing import Any

from minigan.autograd import Tensor, grad, tensor
from minigan.gan.trainer import GAN
from minigan.module import substituted
from minigan.optim import TENSOR_MATH, Adam, adam_update

__all__ = ["UnrolledGAN"]


class UnrolledGAN(GAN):
    """A GAN whose G step looks ``unroll`` D steps ahead. ``second_order``: backpropagate through them."""

    def __init__(self, *args: Any, unroll: int = 5, second_order: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if int(unroll) < 1:
            raise ValueError(f"unroll must be at least 1, got {unroll}.")
        self.unroll, self.second_order = int(unroll), bool(second_order)
        self._real: tuple[Tensor, Any] | None = None

    # ---- D's state, to put it back after looking ahead

    def _save_d(self) -> tuple[list[Any], list[Any], list[dict[str, Any]]]:
        def copy(s: dict[str, Any]) -> dict[str, Any]:
            return {k: (v.copy() if hasattr(v, "shape") else v) for k, v in s.items()}

        return ([p.data.copy() for p in self.D.parameters()], [b.data.copy() for b in self.D.buffers()],
                [copy(s) for s in self.opt_d.state])

    def _restore_d(self, saved: tuple[list[Any], list[Any], list[dict[str, Any]]]) -> None:
        params, buffers, opt_state = saved
        for p, a in zip(self.D.parameters(), params):
            p.data[...] = a
        for b, a in zip(self.D.buffers(), buffers):
            b.data[...] = a
        self.opt_d.state = opt_state

    # ---- the algorithm

    def d_step(self, real: Any, y: Any = None) -> dict[str, float]:
        self._real = (real if isinstance(real, Tensor) else tensor(real), y)  # the G step unrolls on it
        return super().d_step(real, y)

    def g_step(self, n: int) -> dict[str, float]:
        """G's update against D unrolled ``unroll`` steps on the last real batch; D is restored after."""
        if self._real is None:
            raise RuntimeError("An unrolled G step needs a real batch: call d_step (or train_step) first.")
        real, y_real = self._real
        saved = self._save_d()
        if self.second_order:
            numbers = self._g_step_second_order(n, real, y_real)
        else:
            for _ in range(self.unroll):
                super().d_step(real, y_real)  # the surrogate D_k: real updates, undone below
            numbers = super().g_step(n)
        self._restore_d(saved)
        return numbers

    def _g_step_second_order(self, n: int, real: Tensor, y_real: Any) -> dict[str, float]:
        y = self.sample_labels(n) if self.n_classes else None
        z = self.sample_z(n)
        weights: list[Tensor] = [p for p in self.D.parameters()]
        for _ in range(self.unroll):
            weights = self._differentiable_d_update(weights, real, y_real)
        with substituted(self.D, weights):
            fake_out = self._D(self._G(z, y), y)
        loss = self.loss.g(fake_out)
        value, d_fake_g = self._readout("G", loss, fake_out)
        g_params = [p for p in self.G.parameters() if p.requires_grad]
        grads = grad(loss, g_params, allow_unused=True)
        self.opt_g.zero_grad()
        for p, g in zip(g_params, grads):
            p.grad = None if g is None else g.detach()
        self.opt_g.step()
        return {"g_loss": value, "d_fake_g": d_fake_g}

    def _differentiable_d_update(self, weights: list[Tensor], real: Tensor, y_real: Any) -> list[Tensor]:
        """theta' = theta - lr * step(grad_theta d_loss(theta; G)), kept in the graph (G's fakes not detached).

        With Adam, the step is Adam's own (``optim.adam_update`` on Tensors, weight decay included),
        from D's current moments and step count, treated as constants. With any other optimizer it
        is a plain gradient step, theta - lr * grad (no momentum, weight decay or RMSprop scaling).
        """
        n = real.shape[0]
        y_fake = self.sample_labels(n) if self.n_classes else None
        fake = self._G(self.sample_z(n), y_fake)  # no no_grad(): D's update must depend on G
        with substituted(self.D, weights):
            loss = self.loss.d(self._D(real, y_real), self._D(fake, y_fake))
        gs = grad(loss, weights, create_graph=True, allow_unused=True)
        opt = self.opt_d
        new = []
        for i, (w, g) in enumerate(zip(weights, gs)):
            if g is None:
                new.append(w)
            elif isinstance(opt, Adam):  # Adam's own step (optim.adam_update), on Tensors: differentiable
                s = opt.state[i]
                m = Tensor(s["exp_avg"]) if "exp_avg" in s else 0.0
                v = Tensor(s["exp_avg_sq"]) if "exp_avg_sq" in s else 0.0
                t = int(s.get("step", 0)) + 1
                w, _, _ = adam_update(TENSOR_MATH, w, g, m, v, t, float(opt.lr), opt.betas, opt.eps,
                                      opt.weight_decay)
                new.append(w)
            else:
                new.append(w - float(opt.lr) * g)
        return new
