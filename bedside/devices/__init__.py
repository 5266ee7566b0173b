"""The device adapters: each a thin shell around its real library, with a test backend."""
