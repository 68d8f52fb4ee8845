"""Crash-safe recording, HDF5 recordings, recovery and replay.

Modules (import what you need; this package imports nothing by itself)::

    logformat  record framing of the session log (CRC-32 per record)
    logwriter  SessionLogWriter: append-only, fsync >= every 0.5 s, truncates a failed write
    logreader  read_log: drops torn/damaged records, never invents data
    recorder   Recorder: own thread, bounded queue, overflow counted, disk guard
    diskguard  DiskGuard: stop while there is room to convert
    convert    convert: log -> HDF5 (temp, verify, fsync, rename), verify
    h5writer   the HDF5 layout writer (fletcher32, gzip); layout: schema and tables
    acquire    decode a log through stream.Acquisition (the live path); decode: fallback decoder
    session    open_session: read-only, schema-checked reader
    recover    recover(dir): convert crashed logs, clean up interrupted conversions
    replay     ReplaySource: re-feed raw notifications, paced or not
"""
