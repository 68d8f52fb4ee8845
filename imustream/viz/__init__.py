"""imustream.viz."""
