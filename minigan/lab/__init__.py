"""The lab: ``python -m minigan.lab`` serves a page where a student plays a 2-D GAN step by step.

Every step on the page is the trainer's own (``GAN.d_step``, ``GAN.g_step``, ``GAN.train_step``),
on NumPy or CuPy, with the losses and variants of the course. This package holds only what a page
needs around them:

- ``settings``: what the page may set, each setting's range, and the check every request goes through;
- ``session``: one game's GAN and the views the page draws; ``Sessions``, the bounded set of games a
  lab keeps;
- ``server``: the JSON API over ``http.server``, and the static page in ``static/`` (no network
  needed: nothing is loaded from elsewhere);
- ``__main__``: the command-line door.
"""
