"""The Care homes screen: the weekly home-round grid, visits, residents and their care plans."""
