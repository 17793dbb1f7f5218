"""Exercise self-checks (print PASS/FAIL) and the student-notebook generator.

``a3net.exercises.checks`` holds the generic checks, one module per chapter the specific ones
(``a3net.exercises.rings`` for chapter F), and ``a3net.exercises.student`` writes student copies.
"""

from .checks import check, check_better_than, check_close, check_shape

__all__ = ["check", "check_better_than", "check_close", "check_shape"]
