"""I/O around the domain core: source adapters, loading, validation, warehouse publishing and the runner."""
