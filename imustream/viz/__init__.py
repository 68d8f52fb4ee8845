"""Live dashboard (pyqtgraph) and static session reports.

The dashboard only reads: producers (acquisition, DSP) push into a :class:`LiveFeed`
from their own threads; the Qt main thread pulls "everything since write count N" at
a fixed frame rate through :class:`DashboardModel` and draws.

Qt is imported only by :mod:`imustream.viz.dashboard`, :mod:`imustream.viz.widgets`
and :mod:`imustream.viz.report.figures`; ``feed``, ``model`` and ``decimate`` are
plain numpy.
"""
