"""The classroom kit: the library with holes for students.

- ``markers``: the ``# BEGIN EXERCISE`` / ``# END EXERCISE`` regions of the library's source, the
  exercise registry and the lessons' declared exercises (pure parsing, no I/O beyond reading);
- ``kit``: the student edition, grading, the soundness check and the release;
- ``__main__``: ``python -m minigan.classroom``.
"""
