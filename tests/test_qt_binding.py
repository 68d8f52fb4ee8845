"""Catch a broken Qt binding: PySide6 6.12.0 aborts Python 3.11 after ~50 Signal.emit calls."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_signal_emit_many_times_in_fresh_interpreter():
    code = textwrap.dedent(
        """
        import os
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from pyqtgraph.Qt import QtCore
        class Emitter(QtCore.QObject):
            sig = QtCore.Signal(bool)
        app = QtCore.QCoreApplication([])
        got = []
        e = Emitter()
        e.sig.connect(got.append)
        for i in range(5000):
            e.sig.emit(i % 2 == 0)
        assert len(got) == 5000 and got[0] is True and got[1] is False
        print("ok", QtCore.qVersion())
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("ok")
