"""imustream.io."""
