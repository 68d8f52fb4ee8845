"""bleak backends for simulated devices: in-process and bumble's virtual radio."""
