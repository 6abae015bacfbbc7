"""Developer utilities: scripts (utils/scripts) and the benchmark suite (utils.bench)."""
