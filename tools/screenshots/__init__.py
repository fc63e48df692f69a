"""make screenshots: a PNG of every main screen on the demo world, for review and the user guide."""
