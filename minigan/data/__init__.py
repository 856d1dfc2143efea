"""Data for GANs: image datasets read from IDX files, 2-D toy mixtures, and a resumable loader.

::

    from minigan import data

    x, y = data.load("fashion-mnist")          # (60000, 1, 28, 28) float32 in [-1, 1], (60000,) int64
    loader = data.DataLoader(x, batch_size=64)  # batches on the current backend, shuffled by the run's generator
    points = data.sample("ring8", 512, rng)     # (512, 2) float32 from 8 Gaussians on the unit circle

Image files are looked up in ``--data-dir``, ``$MINIGAN_DATA``, the cache
(``$XDG_CACHE_HOME/minigan``) and Debian's ``/usr/share/datasets/fashion-mnist``,
then downloaded into the cache; ``data.locate(name, split)`` (or
``data.load(..., with_source=True)``) says which folder, and which of these, was used;
see :mod:`minigan.data.datasets`.
"""

from minigan.data.datasets import (
    DATASETS,
    SOURCES,
    DataSource,
    cache_dir,
    class_names,
    find,
    is_toy,
    load,
    locate,
    n_classes,
    search_dirs,
    split_test_files,
)
from minigan.data.errors import DataError, DataNotFoundError
from minigan.data.idx import read_idx, write_idx
from minigan.data.loader import DataLoader
from minigan.data.toy2d import TOY_DATASETS, TOY_SHAPES, modes, sample, sample_points, sample_shape, toy_scale

sample_toy = sample  # a name that says which sample, for `from minigan.data import sample_toy`

__all__ = [
    "DATASETS",
    "SOURCES",
    "DataSource",
    "TOY_DATASETS",
    "TOY_SHAPES",
    "sample_shape",
    "sample_points",
    "toy_scale",
    "DataError",
    "DataNotFoundError",
    "split_test_files",
    "DataLoader",
    "cache_dir",
    "class_names",
    "find",
    "is_toy",
    "load",
    "locate",
    "modes",
    "n_classes",
    "read_idx",
    "sample",
    "sample_toy",
    "search_dirs",
    "write_idx",
]
