"""imustream.sim."""
