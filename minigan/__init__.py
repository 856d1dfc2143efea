"""minigan: Generative Adversarial Networks built from scratch on arrays.

The public API follows PyTorch's names, so what a student learns here carries over::

    import minigan
    from minigan import nn, functional as F

    x = minigan.randn(8, 2)
    layer = nn.Linear(2, 1)
    loss = F.sigmoid(layer(x)).mean()
    loss.backward()
"""

from minigan import backend
from minigan.autograd import (
    Function, Tensor, as_tensor, enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled, tensor,
)
from minigan.autograd import (  # the ops, under the names NumPy and PyTorch give them
    abs, broadcast_to, clip, concat, exp, leaky_relu, log, matmul, max, mean, pow, relu, reshape,
    sigmoid, softplus, sqrt, stack, sum, sum_to, tanh, transpose, var, where,
)
from minigan.autograd import conv2d, conv_transpose2d
from minigan.autograd import arange, ones, ones_like, rand, randint, randn, zeros, zeros_like
from minigan.backend import BackendError, current, manual_seed, use
from minigan.gradcheck import GradcheckError, gradcheck, gradgradcheck
from minigan import functional  # noqa: E402
from minigan import nn  # noqa: E402
from minigan import losses, optim  # noqa: E402

__version__ = "0.1.0"
