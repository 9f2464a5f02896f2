"""Batch generation: a script in, one audio file per line out (no Qt; shared by the CLI and the app).

``script`` reads scripts, ``names`` makes safe file names, ``project`` keeps rows and takes on disk
(atomically, after every row), ``runner`` works through the queue, ``export`` writes the files.
"""
