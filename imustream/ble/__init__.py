"""imustream.ble."""
