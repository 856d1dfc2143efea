"""Benchmarks: plain scripts that time minigan beside PyTorch and print markdown tables."""
