"""National context: NHS England GPAD practice-level files (see metrics/gpad/files.py)."""

from metrics.gpad.files import *  # noqa: F403
from metrics.gpad.files import _NAME_MONTH  # noqa: F401
