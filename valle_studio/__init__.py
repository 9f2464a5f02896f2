"""VALL-E Studio: desktop voice cloning on the ecker/vall-e models.

Importing this package is cheap on purpose: it loads neither torch nor Qt.
"""

__version__ = "0.1.0"
