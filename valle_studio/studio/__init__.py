"""Application services without Qt: the take record (``takes``, shared with batch projects), take
history, voices, the pronunciation lexicons of the three scopes (``lexicons``: global, per voice, per batch
project), and other state the GUI shows but does not own."""
