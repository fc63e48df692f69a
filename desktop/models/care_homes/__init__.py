"""Care homes (EHCH): visits, the weekly home-round grid, residents and their PCSPs."""
