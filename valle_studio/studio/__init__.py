"""Application services without Qt: the take record (``takes``, shared with batch projects), take
history, voices, and other state the GUI shows but does not own."""
