"""Chat backends: one module per backend, `<Backend>ChatModel`, chosen by name in `registry`."""
