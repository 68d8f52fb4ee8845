"""imustream.dsp.kernels."""
