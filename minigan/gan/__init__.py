"""The GAN layer: the game, its losses, the models, and the run that trains them.

- ``trainer``: ``GAN`` with ``d_step`` and ``g_step``, the lecture's algorithm one step a method;
- ``losses``: every GAN loss (minimax, non-saturating, WGAN, WGAN-GP, LSGAN, hinge) with its
  gradient derived by hand beside it;
- ``models``: the MLP and DCGAN generators and discriminators (and their conditional forms);
- ``unrolled`` and ``truncation``: the unrolled GAN's G step, Jacobian truncation of samples;
- ``run``: the run folder and the training loop; ``checkpoint``: its exact save and resume;
- ``plots``: the pictures a run and the lessons draw.

Nothing below this package (``minigan.autograd``, the flat library, ``backend``) knows what
a GAN is.
"""

from minigan.gan.trainer import GAN, gradient_penalty, r1_penalty

__all__ = ["GAN", "gradient_penalty", "r1_penalty"]
