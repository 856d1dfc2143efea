GOALS = """After this lesson you can:
- build a graph of scalar operations and backpropagate through it in reverse topological order;
- write the local derivative of +, *, tanh, exp and chain them;
- check any derivative against a central finite difference (f(x+h) - f(x-h)) / 2h;
- do the same with minigan's Tensor: .backward() fills .grad, minigan.grad returns gradients.
"""

# %% [markdown]
# # Lesson 02: autograd from scratch
#
# Training a GAN means computing d(loss)/d(every weight). Autograd does it by recording each
# operation as a node of a graph while computing forward, then walking the graph *backwards*
# applying the chain rule. We first build the smallest such engine, for scalars, right here.

# %%
import math

import numpy as np
from _common import check, done, lesson_setup, out_dir, pause, show
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigan

args = lesson_setup(2, "Autograd from scratch", GOALS,
                    exercises=["sum-to"])
OUT = out_dir(2)

# %% [markdown]
# ## A scalar Value that remembers how it was made
#
# Each Value keeps its number `data`, the Values it came from (`parents`), and a `_backward`
# closure that, given d(out)/d(self) in `self.grad`, adds each parent's share by the chain rule:
# d(out)/d(parent) += d(out)/d(self) · d(self)/d(parent).
#
# `backward()` must call a node's `_backward` only after *every* node that uses it has added its
# share to its `grad`. Reverse topological order guarantees that: sort the graph so each node
# comes after its parents, then walk the list from the end (the output) to the start (the inputs).

# %%


class Value:
    """A scalar with a gradient: data, grad = d(output)/d(self), and how it was computed."""

    def __init__(self, data: float, parents: tuple = (), op: str = "") -> None:
        self.data = float(data)
        self.grad = 0.0
        self.parents = parents
        self.op = op
        self._backward = lambda: None

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():  # d(a+b)/da = 1, d(a+b)/db = 1
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():  # d(ab)/da = b, d(ab)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    __radd__ = __add__
    __rmul__ = __mul__

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():  # d tanh(a)/da = 1 - tanh(a)^2
            self.grad += (1 - t * t) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        e = math.exp(self.data)
        out = Value(e, (self,), "exp")

        def _backward():  # d e^a/da = e^a
            self.grad += e * out.grad
        out._backward = _backward
        return out

    def backward(self) -> None:
        order, seen = [], set()

        def visit(v):  # depth-first: a node joins `order` after all its parents
            if id(v) not in seen:
                seen.add(id(v))
                for p in v.parents:
                    visit(p)
                order.append(v)
        visit(self)
        self.grad = 1.0  # d(out)/d(out)
        for v in reversed(order):  # output first, inputs last
            v._backward()

    def __repr__(self) -> str:
        return f"Value(data={self.data:.4f}, grad={self.grad:.4f})"


# %% [markdown]
# ## A small function, its graph, and its gradient
#
# f(x, w, b) = tanh(w·x + b) · exp(x). Note that x is used twice: its gradient is the *sum* of
# the two paths, which is why `_backward` uses `+=`.

# %%
def f_value(x: float, w: float, b: float) -> tuple[Value, Value, Value, Value]:
    X, W, B = Value(x), Value(w), Value(b)
    out = (W * X + B).tanh() * X.exp()
    return out, X, W, B


out, X, W, B = f_value(0.5, -1.2, 0.3)
out.backward()
print(f"f = {out.data:.6f}")
print(f"  by backprop:  df/dx = {X.grad:+.6f}  df/dw = {W.grad:+.6f}  df/db = {B.grad:+.6f}")


def numeric(fn, x: float, h: float = 1e-5) -> float:
    """Central difference (f(x+h) - f(x-h)) / 2h: error O(h^2)."""
    return (fn(x + h) - fn(x - h)) / (2 * h)


nx = numeric(lambda v: f_value(v, -1.2, 0.3)[0].data, 0.5)
nw = numeric(lambda v: f_value(0.5, v, 0.3)[0].data, -1.2)
nb = numeric(lambda v: f_value(0.5, -1.2, v)[0].data, 0.3)
print(f"  numerically:  df/dx = {nx:+.6f}  df/dw = {nw:+.6f}  df/db = {nb:+.6f}")
err = max(abs(X.grad - nx), abs(W.grad - nw), abs(B.grad - nb))
check(err < 1e-6, "backprop through the Value graph gives the central differences' df/dx, df/dw, df/db",
      f"largest difference {err:.2e}, margin 1e-6")

# x feeds two nodes (w·x and exp(x)): each path adds its share into X.grad. By the product rule the
# path through tanh gives w (1 - tanh²(wx + b)) e^x, the path through exp gives tanh(wx + b) e^x.
t0 = math.tanh(-1.2 * 0.5 + 0.3)
via_tanh, via_exp = -1.2 * (1 - t0 * t0) * math.exp(0.5), t0 * math.exp(0.5)
print(f"  df/dx = {X.grad:+.6f} = path through tanh {via_tanh:+.6f} + path through exp {via_exp:+.6f}")
check(abs(X.grad - (via_tanh + via_exp)) < 1e-12 and min(abs(X.grad - via_tanh), abs(X.grad - via_exp)) > 0.1,
      "a Value used twice gets the sum of both paths' gradients (hence += in _backward)",
      f"|df/dx - sum| = {abs(X.grad - (via_tanh + via_exp)):.1e}; either path alone is off by "
      f"{min(abs(X.grad - via_tanh), abs(X.grad - via_exp)):.3f}")
pause()

# %% [markdown]
# ## How small should h be?
#
# The central difference's error has two parts: the Taylor remainder, about h² |f'''| / 6, which
# shrinks with h, and rounding: f(x ± h) each carry an error of about ε |f| (ε ≈ 1e-16 in float64),
# which the division by 2h *magnifies* as h shrinks. The sum is smallest near h ≈ ε^(1/3) ≈ 1e-5.

# %%
def fx(v: float) -> float:
    return f_value(v, -1.2, 0.3)[0].data


h_err = {h: abs(numeric(fx, 0.5, h) - X.grad) for h in (1e-1, 1e-3, 1e-5, 1e-8, 1e-12)}
for h, e in h_err.items():
    print(f"  h = {h:.0e}:  |central difference - backprop| = {e:.1e}")
check(h_err[1e-5] < min(h_err[1e-1], h_err[1e-12]) / 100,
      "h = 1e-5 beats both a large h (Taylor error) and a tiny one (rounding error) by 100x or more",
      f"error {h_err[1e-5]:.1e} at h = 1e-5 vs {h_err[1e-1]:.1e} at 1e-1 and {h_err[1e-12]:.1e} at 1e-12")
pause()

# %% [markdown]
# ## Why the order matters
#
# In f only x is used twice, and x is a leaf: it has no `_backward` to run too early. Reuse an
# *inner* node and the order shows. g(x) = tanh(u) + exp(u) with u = w·x + b: u feeds two nodes.
# A naive walk that runs each node's `_backward` the moment it first reaches it (depth-first from
# the output) runs u's after the tanh branch added its share and before the exp branch added its
# own, so x and w never receive the exp branch's share.

# %%


def naive_backward(out: Value) -> None:
    """Depth-first from the output, each node's _backward at first visit: wrong for reused inner nodes."""
    seen = set()
    out.grad = 1.0

    def visit(v):
        if id(v) not in seen:
            seen.add(id(v))
            v._backward()
            for p in v.parents:
                visit(p)
    visit(out)


def g_value(x: float, backward) -> float:
    X = Value(x)
    u = Value(-1.2) * X + Value(0.3)
    backward(u.tanh() + u.exp())
    return X.grad


g_num = numeric(lambda v: math.tanh(-1.2 * v + 0.3) + math.exp(-1.2 * v + 0.3), 0.5)
g_topo, g_naive = g_value(0.5, Value.backward), g_value(0.5, naive_backward)
print(f"dg/dx: central difference {g_num:+.6f}  reverse topological order {g_topo:+.6f}  naive walk {g_naive:+.6f}")
check(abs(g_topo - g_num) < 1e-6 and abs(g_naive - g_num) > 0.1,
      "with a reused inner node, reverse topological order is right and a naive depth-first walk is wrong",
      f"topological off by {abs(g_topo - g_num):.1e}, naive off by {abs(g_naive - g_num):.3f}")

# %% [markdown]
# ## Along a whole range of x
#
# The figure plots f(x) and df/dx from the Value engine and from finite differences on a grid.
# The two derivative curves lie on top of each other.

# %%
xs = np.linspace(-2, 2, 41 if args.quick else 201)
fs, d_auto, d_num = [], [], []
for x in xs:
    o, Xv, _, _ = f_value(x, -1.2, 0.3)
    o.backward()
    fs.append(o.data)
    d_auto.append(Xv.grad)
    d_num.append(numeric(lambda v: f_value(v, -1.2, 0.3)[0].data, x))
d_auto, d_num = np.array(d_auto), np.array(d_num)
grid_err = np.abs(d_auto - d_num).max()
check(grid_err < 1e-6, f"on all {len(xs)} points of [-2, 2], backprop's df/dx equals the central difference",
      f"max |backprop - numeric| = {grid_err:.2e}, margin 1e-6")

fig = Figure(figsize=(6.5, 4), dpi=100, layout="constrained")
FigureCanvasAgg(fig)
ax = fig.add_subplot()
ax.plot(xs, fs, lw=2, label="f(x) = tanh(wx + b) e^x")
ax.plot(xs, d_auto, lw=3, alpha=0.6, label="df/dx by backprop (Value)")
ax.plot(xs, d_num, "k.", ms=4, label="df/dx by central difference")
ax.axhline(0, color="gray", lw=0.5)
ax.set_xlabel("x")
ax.set_title("reverse-mode autograd vs a numerical derivative (w = -1.2, b = 0.3)")
ax.legend(fontsize=8)
path = OUT / "value_vs_numeric.png"
show(fig, path)
pause()

# %% [markdown]
# ## The same with minigan's Tensor
#
# minigan.Tensor is the same idea for arrays: every operation records a node; `.backward()` walks
# the graph in reverse topological order and leaves d(out)/d(leaf) in each leaf's `.grad`.
# `minigan.grad(out, inputs)` returns the gradients instead of storing them (as torch.autograd.grad).
# Float64 tensors let us compare with the Value engine to many digits.

# %%
x = minigan.tensor(np.array(0.5), requires_grad=True)
w = minigan.tensor(np.array(-1.2), requires_grad=True)
b = minigan.tensor(np.array(0.3), requires_grad=True)
y = minigan.tanh(w * x + b) * minigan.exp(x)
y.backward()
print(f"minigan:  f = {y.item():.6f}  df/dx = {x.grad.item():+.6f}  df/dw = {w.grad.item():+.6f}"
      f"  df/db = {b.grad.item():+.6f}")
print(f"Value:    f = {out.data:.6f}  df/dx = {X.grad:+.6f}  df/dw = {W.grad:+.6f}  df/db = {B.grad:+.6f}")
tensor_err = max(abs(y.item() - out.data), abs(x.grad.item() - X.grad), abs(w.grad.item() - W.grad),
                 abs(b.grad.item() - B.grad))
check(tensor_err < 1e-12, "minigan.Tensor's .backward() gives the Value engine's f and gradients (float64)",
      f"largest difference {tensor_err:.1e}")

# %% [markdown]
# On a whole vector at once: y_i = tanh(w x_i + b) e^{x_i}, summed. `minigan.grad` gives
# d(sum)/dx, a vector with one entry per x_i, equal to the curve above.

# %%
xv = minigan.tensor(xs, requires_grad=True)
total = (minigan.tanh(w * xv + b) * minigan.exp(xv)).sum()
(gx,) = minigan.grad(total, xv)
vec_err = np.abs(gx.numpy() - d_auto).max()
print(f"minigan.grad on {xv.shape}: gradient shape {gx.shape}")
check(gx.shape == xv.shape and vec_err < 1e-12 and xv.grad is None,
      "minigan.grad returns d(sum)/dx with one entry per x_i, equal to the Value curve, and stores no .grad",
      f"max |minigan - Value| = {vec_err:.1e} over {xv.shape[0]} points")

# %% [markdown]
# **Question 2.1.** The naive walk got f's gradient right but g's wrong. Why f's? And what would go wrong
# if the naive walk dropped its `seen` set and ran a node's `_backward` every time it reached it?
#
# BEGIN ANSWER
# In f the only reused node is the leaf x, whose `_backward` does nothing: both paths still add (+=) into
# x.grad, in any order, so the sum is right. Order matters only for a reused node that passes its gradient
# on. Without `seen`, g's u would run its `_backward` twice: first with the tanh share, then with the tanh
# and exp shares together, so x and w would get the tanh share twice (and in a deep graph reached along many
# paths, exponentially many visits). Reverse topological order puts a node after every node that uses it:
# its `grad` is complete when its `_backward` runs, and each `_backward` runs exactly once.
# END ANSWER
#
# **Question 2.2.** Gradient checks in minigan's tests cast to float64. What would go wrong in float32?
#
# BEGIN ANSWER
# The rounding part of the central difference's error is about ε |f| / h; float32's ε ≈ 6e-8 instead of
# 1e-16. The best h becomes about ε^(1/3) ≈ 4e-3 and the best error about ε^(2/3) ≈ 1e-5 relative, so a
# correct backward would differ from the numerical derivative by 1e-5 or more, and a subtly wrong one (a
# missing small term) could hide under that noise. In float64 the two agree to about 1e-10, and a
# disagreement beyond that is a bug.
# END ANSWER

# %%
done("a graph, reverse topological order and the chain rule are all of backprop.")
