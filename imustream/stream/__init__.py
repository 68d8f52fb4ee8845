"""Acquisition (raw notifications -> decoded, time-mapped blocks and gaps) and ring buffers."""
