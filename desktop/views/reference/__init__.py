"""The reference-data screens (localities, PCNs, practices, care homes, staff), built from their Entity."""
