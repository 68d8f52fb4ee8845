"""imustream.dsp."""
