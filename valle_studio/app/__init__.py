"""The desktop application: the only package that imports PySide6.

``main.py`` starts it, ``main_window.py`` wires the widgets of ``widgets/`` to the services of
``services.py``. All model work goes through the one :class:`~valle_studio.app.jobs.EngineController`
(``jobs/``): one engine thread, one loaded model, a queue of jobs and a busy state every part of the
window follows; work that needs no model runs as a :class:`~valle_studio.app.jobs.BackgroundTask`.
Nothing else in the app holds or calls the synthesizer.
"""
