"""The simulator interface: the Backend protocol, Frame and camera types, the backend registry."""
