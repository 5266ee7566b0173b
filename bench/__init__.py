"""The benchmark run by `make bench`."""
