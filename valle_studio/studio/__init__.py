"""Application services without Qt: take history and other state the GUI shows but does not own."""
